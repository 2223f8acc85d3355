"""URLs of a provider's host (<tenant>.BASE_DOMAIN): portal, admin, API."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

admin.site.site_header = "SLA Portal — provider administration"
admin.site.site_title = "SLA Portal"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.urls_api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("apps.portal.urls")),
]

# /healthz is answered by apps.core.middleware.HealthzMiddleware before any URL conf.
handler404 = "apps.core.api.not_found"
handler500 = "apps.core.outage.server_error"

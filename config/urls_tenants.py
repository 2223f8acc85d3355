"""URLs of a provider's host (<tenant>.BASE_DOMAIN): portal, admin, API."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.views import healthz

admin.site.site_header = "SLA Portal — provider administration"
admin.site.site_title = "SLA Portal"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.urls_api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("", include("apps.portal.urls")),
]

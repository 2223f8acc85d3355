"""URLs of the public host (BASE_DOMAIN): landing page and platform admin."""

from django.urls import path
from django.views.generic import TemplateView

from apps.tenants.admin import platform_admin

urlpatterns = [
    path("", TemplateView.as_view(template_name="public/landing.html"), name="landing"),
    path("admin/", platform_admin.urls),
]

handler500 = "apps.core.outage.server_error"

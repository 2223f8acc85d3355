"""/api/v1/ — the versioned REST API of a tenant."""

from django.urls import path

from apps.core.api import ObtainTokenView

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
]

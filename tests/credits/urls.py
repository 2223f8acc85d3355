"""The tenant URLconf with /api/v1/credits/ registered, for as long as config/urls_api.py lacks it.

Once the credits viewset is wired into config/urls_api.py this module adds
nothing and the tests run against the real routes.
"""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from apps.credits.api import register
from config import urls_api
from config.urls_tenants import urlpatterns as tenant_urlpatterns

_wired = any(prefix == "credits" for prefix, _viewset, _basename in urls_api.router.registry)
router = SimpleRouter()
if not _wired:
    register(router)

urlpatterns = [path("api/v1/", include(router.urls)), *tenant_urlpatterns]

"""Middleware of the whole site: health check first, headers, the tenant's timezone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django_tenants.utils import get_tenant_domain_model, remove_www
from redis import Redis

Handler = Callable[[HttpRequest], HttpResponse]


class HealthzMiddleware:
    """``/healthz`` answers by itself, before the tenant middleware touches the database,
    so an outage is a 503 with its JSON, never a 500 page."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != "/healthz":
            return self.get_response(request)
        return health_check(request)


def health_check(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    schema = None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        host = remove_www(request.get_host().split(":")[0])
        domain = get_tenant_domain_model().objects.select_related("tenant").filter(domain=host)
        found = domain.first()
        schema = found.tenant.schema_name if found else None
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise: this is the health endpoint
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        Redis.from_url(settings.CACHES["default"]["LOCATION"], socket_timeout=2).ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    response = JsonResponse(
        {"status": "ok" if healthy else "degraded", "schema": schema, **checks},
        status=200 if healthy else 503,
    )
    if not healthy:
        response["Retry-After"] = "30"
    patch_cache_control(response, no_store=True)
    return response


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, but a POST (or any unsafe method) to a URL missing its slash is a 404,
    not a redirect that drops the body (nor, with DEBUG, a RuntimeError)."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if request.method not in ("GET", "HEAD"):
            return False
        return super().should_redirect_with_slash(request)


class PrivateCacheMiddleware:
    """``Cache-Control: private, no-store`` on every authenticated page and the whole API:
    nothing a signed-in user sees may be kept by a shared cache or the browser."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            patch_cache_control(response, private=True, no_store=True)
        return response


class TenantTimezoneMiddleware:
    """Show times in the provider's timezone on its host (storage stays UTC)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone_name = getattr(getattr(request, "tenant", None), "default_timezone", None)
        if zone_name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

"""Operational endpoints shared by the public and the tenant URL confs."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from redis import Redis

from apps.core.tenancy import current_schema


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: the database and Redis answer."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise: this is the health endpoint
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        Redis.from_url(settings.CACHES["default"]["LOCATION"], socket_timeout=2).ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "schema": current_schema(), **checks},
        status=200 if healthy else 503,
    )

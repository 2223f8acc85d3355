"""When PostgreSQL or Redis is unreachable: 503 with Retry-After, never a traceback.

``handler500`` of both URL confs: Django calls it for any uncaught exception, including
one raised before a view runs (the tenant middleware's domain lookup). An outage of
the database or the broker/cache answers 503 with ``Retry-After`` — JSON under /api/,
a friendly page elsewhere; anything else is a plain 500 page without details.
"""

from __future__ import annotations

import sys

import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from kombu.exceptions import OperationalError as BrokerError

RETRY_AFTER_SECONDS = 30
OUTAGES: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    BrokerError,
    ConnectionError,
)


def is_outage(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, OUTAGES):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def outage_response(request: HttpRequest) -> HttpResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "The service is briefly unavailable; retry in a moment."},
            status=503,
            headers=headers,
        )
    html = render_to_string("errors/503.html", {"retry_after": RETRY_AFTER_SECONDS})
    return HttpResponse(html, status=503, headers=headers)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 for an outage, else a 500 that reveals nothing."""
    if is_outage(sys.exc_info()[1]):
        return outage_response(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    return HttpResponse(render_to_string("errors/500.html"), status=500)

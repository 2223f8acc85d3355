"""``/metrics`` for Prometheus, on the public host only, behind a token or a password.

Authentication (settings, from the environment): ``Authorization: Bearer
<METRICS_TOKEN>``, or HTTP basic with ``METRICS_USER`` / ``METRICS_PASSWORD``.
Anything else, and everything when neither is configured, is a 401.

The page is two registries back to back:

- django-prometheus' request metrics (``django_http_*``). They live in each
  gunicorn process; with ``PROMETHEUS_MULTIPROC_DIR`` set (an empty folder per web
  host, the same for all its gunicorn workers, emptied before gunicorn starts)
  prometheus_client sums every worker's files, so any worker answering a scrape
  shows the whole host. Without it a scrape shows the one worker that answered.
- ``apps.observability.metrics.StoreCollector``: task outcomes, evaluation time and
  queue depth, read from Redis (the same figures on every host).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os

import prometheus_client
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, multiprocess

from apps.observability.metrics import StoreCollector

STORE_REGISTRY = CollectorRegistry(auto_describe=False)
STORE_REGISTRY.register(StoreCollector())


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def authorized(request: HttpRequest) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and settings.METRICS_TOKEN:
        return _same(credentials, settings.METRICS_TOKEN)
    if scheme.lower() == "basic" and settings.METRICS_USER and settings.METRICS_PASSWORD:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        # Both compared, always: no early exit that times out the user name alone.
        same_user = _same(user, settings.METRICS_USER)
        same_password = _same(password, settings.METRICS_PASSWORD)
        return same_user and same_password
    return False


def _challenge() -> str:
    if settings.METRICS_USER and settings.METRICS_PASSWORD and not settings.METRICS_TOKEN:
        return 'Basic realm="metrics"'
    return 'Bearer realm="metrics"'


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not authorized(request):
        response = HttpResponse("Authentication required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = _challenge()
        response["Cache-Control"] = "no-store"
        return response
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    body = prometheus_client.generate_latest(registry) + prometheus_client.generate_latest(
        STORE_REGISTRY
    )
    response = HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response

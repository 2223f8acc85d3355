"""``/metrics`` is answered before the tenant middleware, on the public host only.

Like ``/healthz`` (apps.core.middleware), it must not need PostgreSQL: the tenant
middleware looks the host up in the database, and the metrics are most wanted
while the database is down. So this middleware, right after the health check,
answers ``/metrics`` for ``BASE_DOMAIN`` itself; on a tenant's host the path goes
on to the tenant's URLs (where it does not exist: 404).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django_tenants.utils import remove_www

from apps.observability.views import metrics_view

PATHS = {"/metrics", "/metrics/"}


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in PATHS and self._public_host(request):
            return metrics_view(request)
        return self.get_response(request)

    @staticmethod
    def _public_host(request: HttpRequest) -> bool:
        try:
            host = request.get_host()
        except DisallowedHost:
            return False  # the normal path answers it (400)
        domain, _ = split_domain_port(host)
        return remove_www(domain) == settings.BASE_DOMAIN

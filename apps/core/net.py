"""The client's address, behind a known number of trusted reverse proxies.

``TRUSTED_PROXY_DEPTH`` (environment, default 0) says how many proxies of ours
stand in front of the application. With 0 the address is ``REMOTE_ADDR``. With N,
each proxy appended the address it received the request from to
``X-Forwarded-For``, so the client is the N-th entry from the right; entries
further left were sent by the client and are not trusted. Used for the sign-in
lockout (django-axes) and the record of who accepted a revision from where.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    remote = _valid(request.META.get("REMOTE_ADDR"))
    depth = int(getattr(settings, "TRUSTED_PROXY_DEPTH", 0))
    if depth <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not hops:
        return remote
    return _valid(hops[-depth] if len(hops) >= depth else hops[0]) or remote

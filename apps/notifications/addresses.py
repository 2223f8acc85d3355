"""Where a webhook may go: ``https`` to public addresses only (no SSRF into our network).

The provider staff of any tenant choose webhook URLs; the platform's workers send
to them. Without this check a URL could reach the platform's own database, Redis
or cloud metadata service (``http://169.254.169.254/``). The URL is checked when
an endpoint is saved and its host is resolved again before every send (a name may
change its address after the check). ``settings.NOTIFICATIONS_WEBHOOK_ALLOW_LOCAL``
(default: ``DEBUG``) lifts both rules for development and tests.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


def local_allowed() -> bool:
    """May webhooks use http and go to loopback or private addresses?"""
    return bool(getattr(settings, "NOTIFICATIONS_WEBHOOK_ALLOW_LOCAL", settings.DEBUG))


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def url_problem(url: str, *, resolve: bool = True) -> str:
    """Why a webhook may not be sent to ``url`` ("" when it may).

    ``resolve``: look the host name up (before a send); without it only literal
    addresses and ``localhost`` are judged (on save, where DNS may be down).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The URL is not valid."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an http(s) URL with a host name."
    if local_allowed():
        return ""
    if parts.scheme != "https":
        return "Webhooks are sent over https only."
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "Webhooks cannot go to localhost."
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not resolve:
            return ""
    try:
        addresses = _addresses(host, port or 443)
    except (OSError, UnicodeError):
        return f"The host {host} cannot be resolved."
    if not addresses or any(not address.is_global for address in addresses):
        return "Webhooks cannot go to private, loopback or reserved addresses."
    return ""

"""Webhook signatures: HMAC-SHA256 of "<timestamp>." + the raw body, keyed with the endpoint secret.

Receivers verify like this (any language; Python shown)::

    message = request.headers["X-SLA-Timestamp"].encode() + b"." + raw_body
    expected = "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, request.headers["X-SLA-Signature"])
    fresh = abs(time.time() - int(request.headers["X-SLA-Timestamp"])) <= 300

Signing the timestamp with the body lets a receiver refuse a captured request
replayed later; the body alone would verify forever.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-SLA-Signature"
TIMESTAMP_HEADER = "X-SLA-Timestamp"
EVENT_HEADER = "X-SLA-Event"
DELIVERY_HEADER = "X-SLA-Delivery"
PREFIX = "sha256="
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-SLA-Signature value: ``sha256=<hex>``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_verify(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """Does ``header`` sign ``body`` at ``timestamp`` with ``secret``, and is it fresh?"""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent, body), header or "")


def signed_headers(
    *, secret: str, body: bytes, event: str, delivery_id: int, timestamp: int
) -> dict[str, str]:
    """Every header of a webhook request."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "SLA-Portal-Webhooks/1",
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }

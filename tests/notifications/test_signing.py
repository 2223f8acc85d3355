"""Signatures: HMAC-SHA256 over "<timestamp>." + body; fresh, untampered, right key only."""

from __future__ import annotations

import hashlib
import hmac

from apps.notifications.signing import signature, signature_verify, signed_headers

SECRET = "s3cret"
BODY = b'{"event":"test"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(b"s3cret", b"1793491200." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1793491200, BODY) == f"sha256={expected}"


def test_verify_accepts_a_fresh_signature_and_refuses_tampering_stale_or_wrong_keys():
    header = signature(SECRET, 1000, BODY)
    assert signature_verify(SECRET, "1000", BODY, header, now=1000 + 299)
    assert not signature_verify(SECRET, "1000", BODY, header, now=1000 + 301)  # replayed late
    assert not signature_verify(SECRET, "1001", BODY, header, now=1001)  # timestamp changed
    assert not signature_verify(SECRET, "1000", BODY + b" ", header, now=1000)  # body changed
    assert not signature_verify("other", "1000", BODY, header, now=1000)
    assert not signature_verify(SECRET, "soon", BODY, header, now=1000)


def test_the_headers_name_event_delivery_timestamp_and_signature():
    headers = signed_headers(secret=SECRET, body=BODY, event="test", delivery_id=7, timestamp=5)
    assert headers["X-SLA-Event"] == "test" and headers["X-SLA-Delivery"] == "7"
    assert headers["X-SLA-Timestamp"] == "5"
    assert headers["X-SLA-Signature"] == signature(SECRET, 5, BODY)

"""Notification tests: time pinned, local webhooks allowed, and a real receiver on 127.0.0.1.

The receiver is an ``http.server`` in a thread on a random port. It verifies every
request's signature on its own (hmac, not the app's code) with the secret it was
given, records what it got, and answers with the statuses queued for it (200 when
none are queued; 401 when the signature does not verify).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.parties.models import Contact, ContactRole
from tests.conftest import TENANT_A

NOW = datetime(2026, 10, 20, 12, tzinfo=UTC)  # October 2026 is open, September just closed


@pytest.fixture(autouse=True)
def _pinned(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def _local_webhooks(settings):
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_LOCAL = True


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    secret: str = ""
    secrets: dict[str, str] = field(default_factory=dict)  # per path, else ``secret``
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0  # seconds before answering

    def verify(self, path: str, headers: dict[str, str], body: bytes) -> bool:
        key = self.secrets.get(path, self.secret).encode()
        message = headers.get("X-SLA-Timestamp", "").encode() + b"." + body
        expected = "sha256=" + hmac.new(key, message, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("X-SLA-Signature", ""))

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        if self.delay:
            time.sleep(self.delay)
        verified = self.verify(path, headers, body)
        with self.lock:
            self.received.append(Received(path, headers, body, verified))
            queued = self.statuses.pop(0) if self.statuses else 200
        return queued if verified else 401

    @property
    def deliveries(self) -> list[str]:
        return [r.headers["X-SLA-Delivery"] for r in self.received]


@contextmanager
def serving() -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 (random port) until the block ends."""
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = holder["receiver"].answer(self.path, dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    holder["receiver"] = Receiver(url=f"http://{host}:{port}/hooks/sla")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["receiver"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as running:
        yield running


def escalation(party, email: str, level: int = 1, name: str = "Esc Contact") -> Contact:
    return Contact.objects.create(
        party=party, name=name, email=email, role=ContactRole.ESCALATION, escalation_level=level
    )


def at_risk_result(world, period: str = "2026-10", margin: str = "-0.4"):
    """A pending result of agreement_x below its 99.9 % target so far."""
    from tests.credits.helpers import result

    made = result(world, status="pending", attained="99.5", period=period)
    made.margin = Decimal(margin)
    made.save(update_fields=["margin"])
    return made


@pytest.fixture
def contacts(world_a):
    """Escalation contacts of X and Y, and a report recipient of X (never notified)."""
    with schema_context(TENANT_A.schema):
        x = escalation(world_a.party_x, "x-escalation@x.example", name="Xavier Esc")
        y = escalation(world_a.party_y, "y-escalation@y.example", name="Yvonne Esc")
        Contact.objects.create(
            party=world_a.party_x,
            name="Rita Reports",
            email="reports@x.example",
            role=ContactRole.REPORT_RECIPIENT,
        )
    return x, y

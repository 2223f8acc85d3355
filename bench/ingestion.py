"""Bulk ticket ingestion through the API: 10 requests × 1,000 tickets with 0-3 pauses each.

Run by ``python -m bench bench.ingestion`` (a scratch database, see
bench/__main__.py). The figures come from a real gunicorn (one sync worker,
requests one after another, so each figure is one request's latency) on the
bench database, posting to ``/api/v1/tickets/`` with a token: first every
batch as new tickets (INSERT), then the same batches again (UPDATE, pauses
replaced). For comparison, the same work through DRF's APIClient in-process
(no HTTP) and through ``ticket_ingest`` alone (no DRF, no JSON).
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

REQUESTS = 10
TICKETS = 1_000
GOAL = 5_000  # tickets per second
SLUG = "benchingest"
SEED = 20_261_001
ROOT = Path(__file__).resolve().parent.parent


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _batch(rng: random.Random, service: int, prefix: str) -> list[dict]:
    """TICKETS tickets opened in October 2026, in offsets +02:00 and UTC, 0-3 pauses each."""
    zones = [UTC, timezone(timedelta(hours=2))]
    items = []
    for number in range(TICKETS):
        opened = datetime(2026, 10, 1, tzinfo=rng.choice(zones)) + timedelta(
            seconds=rng.randrange(30 * 86_400)
        )
        response = opened + timedelta(minutes=rng.randrange(1, 240))
        resolved = response + timedelta(minutes=rng.randrange(1, 5_000))
        pauses = []
        cursor = response
        for _ in range(rng.randrange(4)):
            start = cursor + timedelta(minutes=rng.randrange(1, 120))
            end = start + timedelta(minutes=rng.randrange(1, 240))
            pauses.append({"start": _iso(start), "end": _iso(end), "reason": "waiting_customer"})
            cursor = end
        items.append(
            {
                "external_id": f"{prefix}-{number:05d}",
                "service": service,
                "priority": rng.choice(["P1", "P2", "P3"]),
                "opened_at": _iso(opened),
                "first_response_at": _iso(response),
                "resolved_at": _iso(max(resolved, cursor)),
                "closed_at": None,
                "contacts": rng.randrange(1, 4),
                "pauses": pauses,
            }
        )
    return items


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _timed(calls: list[Callable[[], int]]) -> list[float]:
    """Seconds per call; each call returns the HTTP status, which must be 201."""
    seconds = []
    for call in calls:
        started = time.perf_counter()
        status = call()
        seconds.append(time.perf_counter() - started)
        if status != 201:
            raise RuntimeError(f"ingestion answered {status}")
    return seconds


def _gunicorn(host: str, token: str, bodies: list[bytes]) -> tuple[list[float], list[float]]:
    """(insert seconds, update seconds) per request through a real gunicorn."""
    import requests

    port = _free_port()
    log = Path(tempfile.gettempdir()) / f"bench-ingestion-{port}.log"
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [*command, "--workers", "1", "--timeout", "120"],
            cwd=ROOT,
            env={**os.environ},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.headers.update(
        {"Host": host, "Authorization": f"Token {token}", "Content-Type": "application/json"}
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}")
            try:
                session.get(f"{base}/healthz", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)

        def post(body: bytes) -> Callable[[], int]:
            return lambda: session.post(f"{base}/api/v1/tickets/", data=body).status_code

        session.post(f"{base}/api/v1/tickets/", data=b"[]")  # warm the worker
        try:
            return _timed([post(body) for body in bodies]), _timed([post(b) for b in bodies])
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; gunicorn said: {log.read_text()[-3000:]}") from exc
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.unlink(missing_ok=True)


def _in_process(host: str, token: str, bodies: list[bytes]) -> list[float]:
    from rest_framework.test import APIClient

    client = APIClient(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {token}")

    def post(body: bytes) -> Callable[[], int]:
        return lambda: (
            client.post("/api/v1/tickets/", data=body, content_type="application/json").status_code
        )

    return _timed([post(body) for body in bodies])


def _service_only(user, batches: list[list[dict]]) -> list[float]:
    from django.db import transaction

    from apps.measurements.ingestion import ticket_ingest

    def call(items: list[dict]) -> Callable[[], int]:
        def run() -> int:
            with transaction.atomic():
                ticket_ingest(items=items, acting_user=user)
            return 201

        return run

    return _timed([call(items) for items in batches])


def _rate(seconds: list[float]) -> tuple[float, float, float]:
    """(median, worst, best) tickets per second."""
    rates = sorted(TICKETS / s for s in seconds)
    return statistics.median(rates), rates[0], rates[-1]


def _drop_tenant() -> None:
    from django.db import connection

    from apps.core.tenancy import use_public_schema
    from apps.tenants.models import Tenant

    use_public_schema()
    Tenant.objects.filter(schema_name=SLUG).delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{SLUG}" CASCADE')


def run() -> str:
    from django.contrib.auth import get_user_model
    from django_tenants.utils import schema_context
    from rest_framework.authtoken.models import Token

    from apps.agreements.models import Service
    from apps.measurements.models import Ticket, TicketPause
    from apps.tenants.services import tenant_create, tenant_domain_for

    _drop_tenant()
    tenant_create(slug=SLUG, name="Ingestion benchmark")
    host = tenant_domain_for(SLUG)
    try:
        with schema_context(SLUG):
            service = Service.objects.create(name="Benchmarked service")
            user = get_user_model().objects.create_user(
                username="bench-manager", password="bench-only-9f3", is_staff=True
            )
            token = Token.objects.create(user=user).key
        rng = random.Random(SEED)
        phases = ("http", "apiclient", "service")
        batches = {
            phase: [_batch(rng, service.pk, f"{phase}{r}") for r in range(REQUESTS)]
            for phase in phases
        }
        bodies = {phase: [json.dumps(b).encode() for b in batches[phase]] for phase in phases}
        pauses = sum(len(item["pauses"]) for batch in batches["http"] for item in batch)

        inserts, updates = _gunicorn(host, token, bodies["http"])
        with schema_context(SLUG):
            in_process = _in_process(host, token, bodies["apiclient"])
            service_only = _service_only(user, batches["service"])
            stored = Ticket.objects.count(), TicketPause.objects.count()
    finally:
        _drop_tenant()

    rows = [
        ("HTTP, gunicorn 1 sync worker: new tickets (INSERT)", inserts),
        ("HTTP, gunicorn 1 sync worker: same batches again (UPDATE, pauses replaced)", updates),
        ("in-process DRF APIClient, new tickets", in_process),
        ("`ticket_ingest` alone (no JSON, no DRF), new tickets", service_only),
    ]
    table = "\n".join(
        "| {} | **{:,.0f}** | {:,.0f} | {:,.0f} | {:.0f} ms |".format(
            label, *_rate(seconds), statistics.median(seconds) * 1000
        )
        for label, seconds in rows
    )
    median = _rate(inserts)[0]
    verdict = "met" if min(median, _rate(updates)[0]) >= GOAL else "NOT met"
    return (
        "## Bulk ticket ingestion\n\n"
        f"`POST /api/v1/tickets/` with {REQUESTS} requests × {TICKETS:,} tickets "
        f"({pauses:,} pauses in all, 0-3 per ticket, timestamps with offsets), token auth, "
        "one request at a time; tickets/s per request.\n\n"
        "| path | median tickets/s | worst | best | median request |\n|---|---|---|---|---|\n"
        f"{table}\n\n"
        f"Load average (1 min) on the machine at the end: {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores; client, gunicorn and PostgreSQL share them.\n\n"
        f"Goal ≥ {GOAL:,} tickets/s through the API: **{verdict}** "
        f"(median {median:,.0f} tickets/s for new tickets, {_rate(updates)[0]:,.0f} for "
        f"repeats). Stored at the end: {stored[0]:,} tickets, {stored[1]:,} pauses."
    )

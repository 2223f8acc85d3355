"""Bulk ticket ingestion through the API, beside a bare COPY of the same rows.

Run by ``python -m bench bench.ingestion`` (a scratch database, see
bench/__main__.py). The figures come from a real gunicorn (one sync worker,
requests one after another, so each figure is one request's latency) on the
bench database, posting to ``/api/v1/tickets/`` with a token: first every
batch as new tickets (INSERT), then the same batches again (UPDATE, pauses
replaced). For comparison, the same work through DRF's APIClient in-process
(no HTTP), through ``ticket_ingest`` alone (no DRF, no JSON), and a **bare
COPY**: the same rows, already typed in memory, written into the same two tables
by ``COPY … FROM STDIN (FORMAT BINARY)`` (ids reserved from the sequence in one
statement, foreign keys checked at commit) — the least any loader must do to get
those rows into those tables. Each bare-COPY batch runs right after the HTTP
request of the same size, so the two see the same load on the machine.
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
from functools import partial
from pathlib import Path

REQUESTS = 10
TICKETS = 1_000
GOAL = 25_000  # tickets per second through the API
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


def _cpu_ms(pid: int | str) -> float | None:
    """Milliseconds process ``pid`` (or "self") has run on a CPU so far, from Linux's
    /proc/<pid>/schedstat; None where that cannot be read. Unlike wall time, this does not
    grow when other work on the machine takes the cores."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e6
    except (OSError, ValueError, IndexError):
        return None


def _backend_pid(exclude_own: bool) -> int | None:
    """The PostgreSQL backend of our connection, or (``exclude_own``) the one other client
    of the bench database (the gunicorn worker's); None if PostgreSQL is not local."""
    from django.db import connection

    with connection.cursor() as cursor:
        if exclude_own:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        else:
            cursor.execute("SELECT pg_backend_pid()")
        pids = [row[0] for row in cursor.fetchall()]
    if len(pids) != 1:
        return None
    try:
        local = "postgres" in Path(f"/proc/{pids[0]}/comm").read_text()
    except OSError:
        local = False
    return pids[0] if local else None


class CpuMeter:
    """CPU milliseconds of a Python process and a PostgreSQL backend around each call."""

    def __init__(self, python: int | str | None, postgres: int | None) -> None:
        self.python, self.postgres = python, postgres
        self.samples: list[tuple[float, float]] = []

    def around(self, call: Callable[[], object]) -> None:
        if self.python is None or self.postgres is None:
            call()
            return
        before = (_cpu_ms(self.python), _cpu_ms(self.postgres))
        call()
        after = (_cpu_ms(self.python), _cpu_ms(self.postgres))
        if None not in before and None not in after:
            self.samples.append((after[0] - before[0], after[1] - before[1]))  # type: ignore[operator]

    def medians(self) -> tuple[float, float] | None:
        if not self.samples:
            return None
        return tuple(statistics.median(sample[i] for sample in self.samples) for i in (0, 1))  # type: ignore[return-value]


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


def _gunicorn(
    host: str, token: str, bodies: list[bytes], beside: Callable[[int], None]
) -> tuple[list[float], list[float], CpuMeter]:
    """(insert seconds, update seconds, CPU of the inserts) per request through a real
    gunicorn; ``beside(i)`` runs after the i-th insert request (the bare COPY of a batch
    of the same size)."""
    import psutil
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
        workers = psutil.Process(process.pid).children()
        meter = CpuMeter(workers[0].pid if len(workers) == 1 else None, _backend_pid(True))
        try:
            inserts: list[float] = []
            for index, body in enumerate(bodies):
                meter.around(partial(lambda one: inserts.extend(_timed([post(one)])), body))
                beside(index)
            return inserts, _timed([post(b) for b in bodies]), meter
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


def _typed(batch: list[dict]) -> tuple[list[tuple], list[tuple]]:
    """The batch as rows for COPY: tickets, and pauses as (ticket index, start, end, reason)."""
    moment = datetime.fromisoformat
    tickets, pauses = [], []
    for index, item in enumerate(batch):
        tickets.append(
            (
                item["external_id"],
                item["service"],
                item["priority"],
                moment(item["opened_at"]),
                moment(item["first_response_at"]),
                moment(item["resolved_at"]),
                item["contacts"],
            )
        )
        for pause in item["pauses"]:
            pauses.append((index, moment(pause["start"]), moment(pause["end"]), pause["reason"]))
    return tickets, pauses


BARE_TICKET_COLUMNS = (
    "id, external_id, service_id, priority, opened_at, first_response_at, resolved_at, "
    "contacts, excluded, exclusion_reason, updated_at"
)
BARE_TICKET_TYPES = [
    "int8",
    "varchar",
    "int8",
    "varchar",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "int4",
    "bool",
    "text",
    "timestamptz",
]


def _bare_copy(rows: tuple[list[tuple], list[tuple]]) -> float:
    """Seconds to write one typed batch with COPY (binary) into the tables, committed."""
    from django.db import connection, transaction

    tickets, pauses = rows
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as django_cursor:
        raw = django_cursor.connection  # the psycopg connection, search_path already set
        last = raw.execute(
            "SELECT setval(pg_get_serial_sequence('measurements_ticket', 'id'), "
            "nextval(pg_get_serial_sequence('measurements_ticket', 'id')) + %s - 1)",
            [max(len(tickets), 1)],
        ).fetchone()[0]
        first = last - len(tickets) + 1
        now = datetime.now(UTC)
        cursor = raw.cursor()
        with cursor.copy(
            f"COPY measurements_ticket ({BARE_TICKET_COLUMNS}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(BARE_TICKET_TYPES)
            for offset, ticket in enumerate(tickets):
                copy.write_row((first + offset, *ticket, False, "", now))
        with cursor.copy(
            'COPY measurements_ticketpause (ticket_id, start, "end", reason) '
            "FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "timestamptz", "timestamptz", "varchar"])
            for index, start, end, reason in pauses:
                copy.write_row((first + index, start, end, reason))
    return time.perf_counter() - started


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
        phases = ("http", "apiclient", "service", "copy")
        batches = {
            phase: [_batch(rng, service.pk, f"{phase}{r}") for r in range(REQUESTS)]
            for phase in phases
        }
        bodies = {phase: [json.dumps(b).encode() for b in batches[phase]] for phase in phases}
        pauses = sum(len(item["pauses"]) for batch in batches["http"] for item in batch)

        typed = [_typed(batch) for batch in batches["copy"]]
        bare: list[float] = []
        bare_meter = CpuMeter("self", _backend_pid(False))

        def copy_beside(index: int) -> None:
            with schema_context(SLUG):
                bare_meter.around(lambda: bare.append(_bare_copy(typed[index])))

        inserts, updates, api_meter = _gunicorn(host, token, bodies["http"], copy_beside)
        with schema_context(SLUG):
            in_process = _in_process(host, token, bodies["apiclient"])
            service_only = _service_only(user, batches["service"])
            stored = Ticket.objects.count(), TicketPause.objects.count()
    finally:
        _drop_tenant()

    rows = [
        ("bare COPY (binary) of the same rows, beside each HTTP insert", bare),
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
    median, median_updates, median_bare = _rate(inserts)[0], _rate(updates)[0], _rate(bare)[0]
    verdict = "met" if min(median, median_updates) >= GOAL else "NOT met"
    paired = statistics.median(b / h for b, h in zip(bare, inserts, strict=True))
    return _text(
        pauses,
        table,
        (median, median_updates, median_bare, paired),
        verdict,
        stored,
        (api_meter.medians(), bare_meter.medians()),
    )


def _cpu_text(api: tuple[float, float] | None, bare: tuple[float, float] | None) -> str:
    if api is None or bare is None:
        return "CPU time per batch: not measured (needs Linux and a local PostgreSQL)."
    api_total, bare_total = sum(api), sum(bare)
    return (
        "CPU time per 1,000-ticket batch (medians, from /proc/<pid>/schedstat; on a shared "
        "machine the absolute figures move with the load too, their ratio hardly): API "
        f"{api[0]:.0f} ms in the gunicorn worker + {api[1]:.0f} ms in its PostgreSQL backend "
        f"= {api_total:.0f} ms; bare COPY {bare[0]:.0f} ms in Python + {bare[1]:.0f} ms in "
        f"PostgreSQL = {bare_total:.0f} ms (API / bare COPY by CPU: "
        f"**{bare_total / api_total:.2f}×**)."
    )


def _text(
    pauses: int,
    table: str,
    rates: tuple[float, float, float, float],
    verdict: str,
    stored: tuple[int, int],
    cpu: tuple[tuple[float, float] | None, tuple[float, float] | None],
) -> str:
    median, median_updates, median_bare, paired = rates
    return (
        "## Bulk ticket ingestion\n\n"
        f"`POST /api/v1/tickets/` with {REQUESTS} requests × {TICKETS:,} tickets "
        f"({pauses:,} pauses in all, 0-3 per ticket, timestamps with offsets), token auth, "
        "one request at a time; tickets/s per request.\n\n"
        "| path | median tickets/s | worst | best | median request |\n|---|---|---|---|---|\n"
        f"{table}\n\n"
        f"Load average (1 min) on the machine at the end: {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores; client, gunicorn and PostgreSQL share them.\n\n"
        f"API / bare COPY: **{median / median_bare:.2f}×** (medians; per pair of neighbouring "
        f"runs {paired:.2f}×) — a bare COPY is {median_bare / median:.1f}× as fast as the API.\n\n"
        f"{_cpu_text(*cpu)}\n\n"
        f"Goal ≥ {GOAL:,} tickets/s through the API: **{verdict}** "
        f"(median {median:,.0f} tickets/s for new tickets, {median_updates:,.0f} for "
        f"repeats). Stored at the end: {stored[0]:,} tickets, {stored[1]:,} pauses."
    )

"""Portal pages with ten times the demo data: server time per request, p50 and p95.

The demo tenant is seeded as `make run` seeds it, then every ticket (with its pauses),
outage and sample is copied nine more times (new external ids, shifted by a few
minutes), and every month is evaluated again. Requests go through Django's whole
middleware stack (tenant routing, session, auth) with the test client, signed in as
the demo customer alice; the figure is the server's time for the response.
"""

from __future__ import annotations

import gc
import statistics
import time

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.agreements.models import Agreement
from apps.demo import agreements as demo_agreements
from apps.demo import measurements as demo_measurements
from apps.demo.dates import DemoDates, demo_today
from apps.demo.seed import DEMO_TENANTS, _ensure_users
from apps.measurements.models import Outage, Sample, Ticket, TicketPause
from apps.tenants.services import public_tenant_ensure, template_tenant_ensure, tenant_create

SLUG = "benchportal"
PASSWORD = "bench-portal-pass"
COPIES = 9  # + the original = ten times the demo data
WARMUP, ROUNDS = 3, 40
GOAL_MS = 150.0


def _multiply() -> dict[str, int]:
    tickets, pauses = Ticket._meta.db_table, TicketPause._meta.db_table
    outages, samples = Outage._meta.db_table, Sample._meta.db_table
    with connection.cursor() as cursor:
        for copy in range(1, COPIES + 1):
            shift = f"interval '{copy * 7} minutes'"
            cursor.execute(
                f"INSERT INTO {tickets} (external_id, service_id, customer_id, priority, opened_at,"
                " first_response_at, resolved_at, closed_at, contacts, updated_at, excluded,"
                " exclusion_reason) SELECT external_id || '-x' || %s, service_id, customer_id,"
                f" priority, opened_at + {shift}, first_response_at + {shift},"
                f" resolved_at + {shift}, closed_at + {shift}, contacts, now(), false, ''"
                f" FROM {tickets} WHERE external_id LIKE 'demo-%%'"
                " AND external_id NOT LIKE '%%-x%%'",
                [copy],
            )
            cursor.execute(
                f'INSERT INTO {pauses} (ticket_id, start, "end", reason) SELECT c.id,'
                f' p.start + {shift}, p."end" + {shift}, p.reason FROM {pauses} p'
                f" JOIN {tickets} o ON o.id = p.ticket_id"
                f" JOIN {tickets} c ON c.external_id = o.external_id || '-x' || %s",
                [copy],
            )
            cursor.execute(
                f'INSERT INTO {outages} (external_id, service_id, customer_id, start, "end", kind,'
                " cause, description, updated_at, excluded, exclusion_reason)"
                " SELECT external_id || '-x' || %s, service_id, customer_id, start + "
                f"{shift}, \"end\" + {shift}, kind, cause, description, now(), false, ''"
                f" FROM {outages} WHERE external_id NOT LIKE '%%-x%%'",
                [copy],
            )
            cursor.execute(
                f"INSERT INTO {samples} (external_id, service_id, customer_id, metric, at, value)"
                f" SELECT external_id || '-x' || %s, service_id, customer_id, metric,"
                f" at + interval '{copy} seconds', value FROM {samples}"
                " WHERE external_id NOT LIKE '%%-x%%'",
                [copy],
            )
        cursor.execute(f"ANALYZE {tickets}; ANALYZE {pauses}; ANALYZE {outages}; ANALYZE {samples}")
    return {
        "tickets": Ticket.objects.count(),
        "pauses": TicketPause.objects.count(),
        "outages": Outage.objects.count(),
        "samples": Sample.objects.count(),
    }


def _time(client: Client, url: str) -> tuple[list[float], int]:
    for _ in range(WARMUP):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return times, len(queries)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def run() -> str:
    public_tenant_ensure()
    template_tenant_ensure()
    tenant_create(slug=SLUG, name="Northwind Hosting (bench)")
    started = time.perf_counter()
    with schema_context(SLUG):
        today = demo_today()
        _ensure_users(DEMO_TENANTS[0].users, PASSWORD)
        demo_agreements.seed(tenant=None, password=PASSWORD, today=today)
        demo_measurements.seed(tenant=None, password=PASSWORD, today=today)
        counts = _multiply()
        demo_measurements.evaluate_history(now=timezone.now(), today=today)
        agreement = Agreement.objects.get(reference="NW-GLOBEX-DE")
        # The demo's latest slow service-desk month: a period with many breaching tickets.
        slow = min(demo_measurements.BAD_MONTHS["slow_desk"])
        month = f"{DemoDates(today).months_ago(slow):%Y-%m}"
    seeded = time.perf_counter() - started
    # What autovacuum does within minutes of a bulk load in production: statistics and
    # the visibility map, so the pages read settled tables, not freshly written ones.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    # The seeding left this process with objects a web worker never holds; freeze them so
    # the garbage collector's passes during the requests cost what they cost in a server.
    gc.collect()
    gc.freeze()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, f"{SLUG}.{settings.BASE_DOMAIN}"]
    client = Client(HTTP_HOST=f"{SLUG}.{settings.BASE_DOMAIN}")
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    pages = {
        "overview `/`": "/",
        f"agreement `/agreements/{agreement.pk}/`": f"/agreements/{agreement.pk}/",
        f"period `/agreements/{agreement.pk}/periods/{month}/`": (
            f"/agreements/{agreement.pk}/periods/{month}/"
        ),
    }
    rows, worst = [], 0.0
    for name, url in pages.items():
        times, queries = _time(client, url)
        p95 = _p95(times)
        worst = max(worst, p95)
        rows.append(
            f"| {name} | {statistics.median(times):.0f} ms | **{p95:.0f} ms** | "
            f"{max(times):.0f} ms | {queries} |"
        )
    verdict = "met" if worst <= GOAL_MS else "missed"
    return "\n".join(
        [
            "## Portal pages with ten times the demo data",
            "",
            f"The demo tenant ×10: {counts['tickets']:,} tickets ({counts['pauses']:,} pauses), "
            f"{counts['outages']:,} outages, {counts['samples']:,} samples, every month "
            f"evaluated (seeded in {seeded:.0f} s). Signed in as alice (Globex: 3 agreements); "
            f"{ROUNDS} requests per page after {WARMUP} warm-ups, one at a time, through "
            "Django's whole middleware stack; server time per response.",
            "",
            "| page | median | p95 | max | queries |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"Goal p95 ≤ {GOAL_MS:.0f} ms for every page: **{verdict}** "
            f"(worst p95 {worst:.0f} ms).",
        ]
    )

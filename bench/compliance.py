"""Compliance at scale: one month for a tenant with 1,000,000 tickets, 100,000 outages and
500 agreements × 5 objectives, against a plain SELECT count(*) over the same rows."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django_tenants.utils import schema_context

from apps.agreements.models import Agreement, Service
from apps.calendars.models import Calendar, WorkingRange
from apps.calendars.periods import Period
from apps.compliance.evaluation import evaluate_period
from apps.parties.models import Party
from apps.revisions.models import Objective, Revision
from apps.tenants.services import tenant_create

TICKETS = 1_000_000
OUTAGES = 100_000
AGREEMENTS = 500
SCHEMA = "benchcompliance"
MONTH = Period(date(2026, 10, 1), "month")
ROUNDS = 3


def _setup(
    count: int = AGREEMENTS, tickets: int = TICKETS, outages: int = OUTAGES
) -> list[Agreement]:
    provider = Party.objects.create(name="Bench provider", kind="provider")
    customers = Party.objects.bulk_create(
        [Party(name=f"Customer {i}", kind="customer") for i in range(count)]
    )
    services = Service.objects.bulk_create([Service(name=f"Service {i}") for i in range(count)])
    berlin = Calendar.objects.create(name="Berlin", timezone="Europe/Berlin", holiday_country="DE")
    WorkingRange.objects.bulk_create(
        [
            WorkingRange(calendar=berlin, weekday=d, start_minute=480, end_minute=1080)
            for d in range(5)
        ]
    )
    always = Calendar.objects.create(name="24x7", timezone="UTC")
    agreements = Agreement.objects.bulk_create(
        [
            Agreement(
                reference=f"B-{i:04d}",
                title=f"Bench {i}",
                provider=provider,
                customer=customers[i],
                kind="customer",
                tier="service",
                term_start=date(2026, 1, 1),
                monthly_fee=Decimal("1000"),
                currency="EUR",
                requires_acceptance=True,
                status="active",
            )
            for i in range(count)
        ]
    )
    Agreement.services.through.objects.bulk_create(
        [
            Agreement.services.through(agreement_id=a.pk, service_id=s.pk)
            for a, s in zip(agreements, services, strict=True)
        ]
    )
    revisions = Revision.objects.bulk_create(
        [Revision(agreement=a, number=1, effective_from=date(2026, 1, 1)) for a in agreements]
    )
    objectives = []
    for revision in revisions:
        objectives += [
            Objective(
                revision=revision,
                key="availability",
                metric="availability",
                target=Decimal("99.9"),
                calendar=always,
            ),
            Objective(
                revision=revision,
                key="response",
                metric="response_time",
                target=Decimal("90"),
                threshold_seconds=3600,
                calendar=berlin,
            ),
            Objective(
                revision=revision,
                key="resolution",
                metric="resolution_time",
                target=Decimal("85"),
                threshold_seconds=4 * 3600,
                calendar=berlin,
            ),
            Objective(
                revision=revision,
                key="fcr",
                metric="first_contact_resolution",
                target=Decimal("70"),
            ),
            Objective(
                revision=revision, key="closure", metric="closure_rate", target=Decimal("90")
            ),
        ]
    Objective.objects.bulk_create(objectives)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    Revision.objects.filter(pk__in=[r.pk for r in revisions]).update(
        status="accepted", approved_at=now, accepted_at=now
    )
    _load_measurements([s.pk for s in services], [c.pk for c in customers], tickets, outages)
    return list(Agreement.objects.filter(pk__in=[a.pk for a in agreements]))


TICKETS_SQL = """
INSERT INTO measurements_ticket (external_id, service_id, customer_id, priority, opened_at,
    first_response_at, resolved_at, closed_at, contacts, excluded, exclusion_reason, updated_at)
SELECT 'b' || g, (%(services)s::bigint[])[w + 1], (%(customers)s::bigint[])[w + 1],
       'P' || (1 + g %% 3), o, o + r, o + r + v, o + r + v + c, 1 + floor(random() * 3)::int,
       false, '', now()
FROM (SELECT g, floor(random() * %(agreements)s)::int AS w,
             to_timestamp(%(lo)s + floor(random() * (%(hi)s - %(lo)s - 3600))) AS o,
             make_interval(secs => exp(ln(60) + random() * (ln(86400) - ln(60)))) AS r,
             make_interval(secs => exp(ln(60) + random() * (ln(432000) - ln(60)))) AS v,
             make_interval(secs => 60 + random() * 86340) AS c
      FROM generate_series(1, %(tickets)s) AS g) AS generated
"""
OUTAGES_SQL = """
INSERT INTO measurements_outage (external_id, service_id, start, "end", kind, cause, description,
    excluded, exclusion_reason, updated_at)
SELECT 'o' || g, (%(services)s::bigint[])[w + 1], s,
       s + make_interval(secs => 30 + random() * 1770),
       'unplanned', 'provider', '', false, '', now()
FROM (SELECT g, floor(random() * %(agreements)s)::int AS w,
             to_timestamp(%(lo)s + floor(random() * (%(hi)s - %(lo)s))) AS s
      FROM generate_series(1, %(outages)s) AS g) AS generated
"""


def _load_measurements(
    service_ids: list[int], customer_ids: list[int], tickets: int, outages: int
) -> None:
    """Generated in PostgreSQL (seeded, so every run measures the same data)."""
    params: dict[str, Any] = {
        "services": service_ids,
        "customers": customer_ids,
        "agreements": len(service_ids),
        "tickets": tickets,
        "outages": outages,
        "lo": int(datetime(2026, 10, 1, tzinfo=UTC).timestamp()),
        "hi": int(datetime(2026, 11, 1, tzinfo=UTC).timestamp()),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(TICKETS_SQL, params)
        cursor.execute(  # a two-hour pause on every fifth ticket
            'INSERT INTO measurements_ticketpause (ticket_id, start, "end", reason) '
            "SELECT id, first_response_at, first_response_at + interval '2 hours', "
            "'waiting_customer' FROM measurements_ticket WHERE id % 5 = 0"
        )
        cursor.execute(OUTAGES_SQL, params)
        cursor.execute(
            "ANALYZE measurements_ticket; ANALYZE measurements_outage; "
            "ANALYZE measurements_ticketpause"
        )


def _count_baseline() -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM measurements_ticket WHERE opened_at >= %s AND opened_at < %s",
            ["2026-09-30T00:00Z", "2026-11-01T12:00Z"],
        )
        cursor.execute("SELECT count(*) FROM measurements_ticketpause")
        cursor.execute(
            "SELECT count(*) FROM measurements_outage WHERE start < %s", ["2026-11-01T12:00Z"]
        )
    return time.perf_counter() - started


def run() -> str:
    tenant_create(slug=SCHEMA, name="Compliance benchmark")
    try:
        with schema_context(SCHEMA):
            started = time.perf_counter()
            agreements = _setup()
            load_seconds = time.perf_counter() - started
            now = datetime(2026, 11, 21, tzinfo=UTC)
            whole, counts = [], []
            for _ in range(ROUNDS):
                counts.append(_count_baseline())
                started = time.perf_counter()
                evaluation = evaluate_period(agreements=agreements, period=MONTH, now=now)
                whole.append(time.perf_counter() - started)
            results = len(evaluation.results)
            statuses: dict[str, int] = {}
            for result in evaluation.results:
                statuses[result.status] = statuses.get(result.status, 0) + 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        from apps.tenants.models import Tenant

        Tenant.objects.filter(schema_name=SCHEMA).delete()
    seconds, baseline = statistics.median(whole), statistics.median(counts)
    return (
        "## Compliance evaluation at scale\n\n"
        f"One month (2026-10) for a tenant with {TICKETS:,} tickets (a 2-hour pause on every "
        f"fifth), {OUTAGES:,} outages and {AGREEMENTS} agreements × 5 objectives "
        "(availability 24×7, response and resolution time in Berlin business hours with "
        "German holidays, first-contact resolution, closure rate): "
        f"{results:,} results ({', '.join(f'{v} {k}' for k, v in sorted(statuses.items()))}). "
        f"Median of {ROUNDS} runs; data loaded in {load_seconds:.0f} s.\n\n"
        "| measure | seconds |\n|---|---|\n"
        f"| `evaluate_period`, all agreements, results written | **{seconds:.2f}** |\n"
        f"| plain `SELECT count(*)` over the same tickets, pauses and outages | {baseline:.2f} |\n"
        f"\nRatio to the count(*) baseline: **{seconds / baseline:.1f}x**; "
        f"goal ≤ 20 s: **{'met' if seconds <= 20 else 'missed'}**."
    )

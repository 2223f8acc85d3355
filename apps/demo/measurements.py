"""Thirteen months of realistic measurements for the demo tenant, with some breaches.

The months are relative to the day of seeding (apps.demo.dates): the bad months are
counted back from the current one, so the last twelve finished months always hold
missed objectives, breaching tickets and credits. Deterministic for a given day
(fixed seed) and idempotent (skipped when the demo tickets exist). After loading,
every month is evaluated, which also calculates the credits of the finished ones, and
the months past their grace window are closed (final).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from apps.agreements.models import Service
from apps.agreements.selectors import agreement_list_evaluated
from apps.calendars.periods import Period
from apps.credits.settlement import closes_due, period_close, period_settle
from apps.demo.dates import DemoDates, demo_today
from apps.measurements.models import Outage, Sample, Ticket, TicketPause
from apps.notifications.detection import notices_record_history
from apps.parties.models import Party

SEED = 20261121
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

# Months in which something went wrong, so the portal has breaches to show, counted
# back from the current month (1: last month); all of them within the portal's grid
# (the current month and the eleven before it) and the last twelve finished months.
DOWNTIME_MINUTES = {  # months ago -> minutes of provider downtime
    "hosting_outage": {9: 190, 4: 75},
    "k8s_outage": {7: 40},
}
BAD_MONTHS = {
    "slow_desk": {10, 3},  # response/resolution times blow up
    "latency": {5},
}


def _working_instant(
    rng: random.Random, month: date, zone: ZoneInfo, hours: tuple[int, int]
) -> datetime:
    """A random weekday instant within local working hours of the month."""
    while True:
        day = month + timedelta(days=rng.randrange(28))
        if day.weekday() < 5:
            local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(
                minutes=rng.randrange(hours[0] * 60, hours[1] * 60 - 30)
            )
            return local.astimezone(UTC)


def _tickets(
    rng: random.Random,
    prefix: str,
    month: date,
    *,
    service: Service,
    customer: Party,
    zone: ZoneInfo,
    hours: tuple[int, int],
    count: int,
    slow: bool,
    now: datetime,
) -> tuple[list[Ticket], list[tuple[str, datetime, datetime]]]:
    tickets, pauses = [], []
    for index in range(count):
        opened = _working_instant(rng, month, zone, hours)
        if opened >= now:
            continue
        priority = rng.choices(["P1", "P2", "P3"], weights=[1, 3, 6])[0]
        response = timedelta(minutes=rng.randint(3, 50 if not slow else 240))
        resolution = timedelta(minutes=rng.randint(30, 200 if not slow else 900))
        if priority == "P1" and not slow:
            resolution = timedelta(minutes=rng.randint(20, 170))
        first_response = opened + response
        resolved = opened + max(resolution, response)
        closed = resolved + timedelta(hours=rng.randint(1, 48))
        external_id = f"{prefix}-{month:%Y%m}-{index:03d}"
        if rng.random() < 0.15:  # waiting on the customer for a while
            start = first_response + timedelta(minutes=5)
            end = start + timedelta(hours=rng.randint(1, 20))
            pauses.append((external_id, start, end))
            resolved += end - start
            closed += end - start
        tickets.append(
            Ticket(
                external_id=external_id,
                service=service,
                customer=customer,
                priority=priority,
                opened_at=opened,
                first_response_at=first_response if first_response < now else None,
                resolved_at=resolved if resolved < now else None,
                closed_at=closed if closed < now else None,
                contacts=1 if rng.random() < (0.8 if not slow else 0.55) else rng.randint(2, 4),
            )
        )
    return tickets, pauses


def seed(*, tenant: Any, password: str, today: date | None = None) -> None:
    """Load the measurements for a demo seeded on ``today`` (default: the tenant's today),
    up to now, and evaluate them. ``password`` is unused (the seeders' signature)."""
    if Ticket.objects.filter(external_id__startswith="demo-").exists():
        return
    dates = DemoDates(today or demo_today())
    rng = random.Random(SEED)
    now = timezone.now()
    services = {s.name: s for s in Service.objects.all()}
    parties = {p.name: p for p in Party.objects.all()}
    globex_de, initech, finance = (
        parties[n] for n in ("Globex Germany GmbH", "Initech", "Finance")
    )
    tickets: list[Ticket] = []
    pauses: list[tuple[str, datetime, datetime]] = []
    outages: list[Outage] = []
    samples: list[Sample] = []
    for month in dates.months:
        label, age = f"{month:%Y-%m}", dates.age(month)
        slow = age in BAD_MONTHS["slow_desk"]
        for prefix, service, customer, zone, hours, count in [
            ("demo-gx", services["Service Desk"], globex_de, BERLIN, (8, 18), 45),
            ("demo-in", services["Service Desk"], initech, NEW_YORK, (9, 17), 35),
            ("demo-fi", services["ERP Hosting"], finance, BERLIN, (8, 18), 20),
        ]:
            new, paused = _tickets(
                rng,
                prefix,
                month,
                service=service,
                customer=customer,
                zone=zone,
                hours=hours,
                count=count,
                slow=slow,
                now=now,
            )
            tickets += new
            pauses += paused
        outage_specs: list[tuple[str, Service, Party | None]] = [
            ("hosting_outage", services["Web Hosting"], None),
            ("k8s_outage", services["Managed Kubernetes"], globex_de),
        ]
        for key, outage_service, outage_customer in outage_specs:
            minutes = DOWNTIME_MINUTES[key].get(age, rng.choice([0, 0, 4, 9]))
            if minutes:
                start = datetime(month.year, month.month, 10, 14, tzinfo=UTC) + timedelta(
                    days=rng.randrange(15)
                )
                if start + timedelta(minutes=minutes) < now:
                    outages.append(
                        Outage(
                            external_id=f"demo-{key}-{label}",
                            service=outage_service,
                            customer=outage_customer,
                            start=start,
                            end=start + timedelta(minutes=minutes),
                            description="Demo incident",
                        )
                    )
        # A planned maintenance window every month, in the window the contract names
        # (the first Sunday, from 02:00 Berlin time): never counts as downtime.
        sunday = 7 - date(month.year, month.month, 1).weekday()  # Monday = 0 -> 7th
        maintenance = datetime(month.year, month.month, sunday, 2, tzinfo=BERLIN)
        if maintenance + timedelta(hours=2) < now:
            outages.append(
                Outage(
                    external_id=f"demo-maint-{label}",
                    service=services["Web Hosting"],
                    start=maintenance,
                    end=maintenance + timedelta(hours=2),
                    kind="planned",
                    description="Planned maintenance (announced: Sunday 02:00–06:00)",
                )
            )
        base = 150.0 if age not in BAD_MONTHS["latency"] else 300.0
        hour = datetime(month.year, month.month, 1, tzinfo=UTC)
        while hour.month == month.month and hour < now:
            samples.append(
                Sample(
                    external_id=f"demo-lat-{hour:%Y%m%d%H}",
                    service=services["Managed Kubernetes"],
                    customer=globex_de,
                    metric="latency_ms",
                    at=hour,
                    value=round(rng.lognormvariate(0, 0.25) * base, 1),
                )
            )
            hour += timedelta(hours=1)
    Ticket.objects.bulk_create(tickets, batch_size=1000)
    by_external = dict(
        Ticket.objects.filter(external_id__startswith="demo-").values_list("external_id", "pk")
    )
    TicketPause.objects.bulk_create(
        [
            TicketPause(ticket_id=by_external[e], start=s, end=f)
            for e, s, f in pauses
            if e in by_external
        ]
    )
    Outage.objects.bulk_create(outages)
    Sample.objects.bulk_create(samples, batch_size=2000)
    evaluate_history(now=now, today=dates.today)
    # A year of history is not news: its old misses and credits are not mailed out.
    notices_record_history(now=now)


def evaluate_history(*, now: datetime, today: date) -> None:
    """Evaluate every demo month (and quarter) of a demo seeded on ``today``, as at ``now``,
    then close the periods past their grace window, as the daily close job would have
    done over that year (their results final; their credits still awaiting approval)."""
    agreements = list(agreement_list_evaluated())
    for month in DemoDates(today).months:
        period_settle(agreements=agreements, period=Period(month, "month"), now=now)
        if month.month in (1, 4, 7, 10):
            period_settle(agreements=agreements, period=Period(month, "quarter"), now=now)
    for agreement, period in closes_due(agreements, now):
        period_close(agreement=agreement, period=period, now=now)

"""Scheduled work at scale: the hourly settlement cycle for 1,000 tenants × 10 agreements,
and report e-mails rendered per second.

One tenant is built (10 agreements × 5 objectives, 2,000 tickets and 50 outages in
October 2026) and cloned with its data into 1,000 tenants. The hourly cycle is what
the beat fan-out and the workers do: one settlement task per tenant and open period
(here October and Q4 2026, evaluated at 20 October); it is timed in one process, one
tenant after another — the work of one worker process. The e-mails: report_message
(HTML, text and the PDF of each agreement) for a subscription of that tenant.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime

from django.db import connection
from django_tenants.utils import schema_context

from apps.agreements.selectors import agreement_list_evaluated
from apps.calendars.periods import parse_period
from apps.credits.settlement import period_settle
from apps.parties.models import Contact, ContactRole, Party
from apps.reports.emails import report_message, subscription_agreements
from apps.reports.models import ReportRun, ReportSubscription
from apps.reports.schedule import due_from_label
from apps.tenants.clone import clone_schema
from apps.tenants.models import Tenant
from apps.tenants.services import public_tenant_ensure, template_tenant_ensure, tenant_create
from bench.compliance import _setup

TENANTS = int(os.environ.get("BENCH_TENANTS", "1000"))
AGREEMENTS, TICKETS, OUTAGES = 10, 2_000, 50
SEED = "benchjobs"
NOW = datetime(2026, 10, 20, 12, tzinfo=UTC)
PERIODS = ["2026-10", "2026-Q4"]
EMAILS = 20


def _tenants() -> list[str]:
    tenant_create(slug=SEED, name="Jobs bench")
    with schema_context(SEED):
        _setup(AGREEMENTS, TICKETS, OUTAGES)
    slugs = []
    started = time.perf_counter()
    for index in range(TENANTS - 1):
        slug = f"jobs{index:04d}"
        with connection.cursor():
            clone_schema(SEED, slug, data=True)
        tenant = Tenant(schema_name=slug, name=slug)
        tenant.auto_create_schema = False
        tenant.save()
        slugs.append(slug)
    print(f"cloned {len(slugs)} tenants in {time.perf_counter() - started:.0f} s", flush=True)
    return [SEED, *slugs]


def _cycle(slugs: list[str]) -> list[float]:
    per_tenant = []
    for slug in slugs:
        started = time.perf_counter()
        with schema_context(slug):
            agreements = list(agreement_list_evaluated())
            for label in PERIODS:
                period_settle(agreements=agreements, period=parse_period(label), now=NOW)
        per_tenant.append(time.perf_counter() - started)
    return per_tenant


def _emails() -> tuple[float, float]:
    with schema_context(SEED):
        party = Party.objects.filter(kind="provider").first()
        customer = Party.objects.filter(kind="customer").first()
        assert party is not None and customer is not None
        contact = Contact.objects.create(
            party=customer, name="Bench", email="bench@x.example", role=ContactRole.REPORT_RECIPIENT
        )
        rates = []
        for pdf in (True, False):
            subscription = ReportSubscription.objects.create(
                party=customer, contact=contact, attach_pdf=pdf
            )
            run = ReportRun.objects.create(
                subscription=subscription, period="2026-10", lease_until=NOW
            )
            agreements = subscription_agreements(subscription)
            due = due_from_label("monthly", "2026-10")
            started = time.perf_counter()
            for _ in range(EMAILS):
                report_message(subscription, due, run, agreements=agreements).message()
            rates.append(EMAILS / (time.perf_counter() - started))
    return rates[0], rates[1]


def run() -> str:
    public_tenant_ensure()
    template_tenant_ensure()
    slugs = _tenants()
    started = time.perf_counter()
    per_tenant = _cycle(slugs)
    total = time.perf_counter() - started
    print(f"hourly cycle of {len(slugs)} tenants: {total:.0f} s", flush=True)
    with_pdf, without_pdf = _emails()
    p95 = statistics.quantiles(per_tenant, n=20)[-1]
    return "\n".join(
        [
            "## Scheduled jobs at scale",
            "",
            f"{len(slugs):,} tenants × {AGREEMENTS} agreements × 5 objectives (each tenant "
            f"{TICKETS:,} tickets and {OUTAGES} outages in October 2026), settled for "
            f"{' and '.join(PERIODS)} as the hourly cycle does, one tenant after another in "
            "one process (the work of one worker process).",
            "",
            "| measure | figure |",
            "|---|---|",
            f"| hourly cycle, all tenants, one process | **{total:.0f} s** |",
            f"| per tenant: median / p95 | {statistics.median(per_tenant) * 1000:.0f} ms / "
            f"{p95 * 1000:.0f} ms |",
            f"| report e-mails with PDF ({AGREEMENTS} agreements, 10 PDFs each) | "
            f"{with_pdf:.2f} e-mails/s |",
            f"| report e-mails without attachments | {without_pdf:.2f} e-mails/s |",
            "",
            f"The hourly cycle fits its hour {3600 / total:.0f} times over on one worker process; "
            "workers scale out across hosts (docs/DESIGN.md §5).",
        ]
    )

"""Scheduled settlement: beat fans out one task per tenant; each settles its agreements.

The open periods are re-evaluated every run (idempotent); the previous period
is evaluated once more during a grace window after it ends, so late data is
counted before its credits are calculated.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.agreements.selectors import agreement_list_evaluated
from apps.calendars.periods import parse_period, period_containing
from apps.core.jobs import PlatformTask
from apps.credits.settlement import GRACE, closes_due, period_close, period_settle
from apps.tenants.selectors import tenant_list_serving


def periods_due(now=None) -> list[str]:
    """The open month and quarter, plus the previous ones while within the grace window."""
    now = now or timezone.now()
    today = now.date()
    labels = []
    for kind in ("month", "quarter"):
        current = period_containing(today, kind)
        labels.append(current.label)
        if today - current.first_day < GRACE:
            labels.append(current.previous().label)
    return labels


@shared_task(name="credits.settle_tenant")
def settle_tenant(period: str) -> dict[str, int]:
    """Settle every evaluated agreement of the current tenant for ``period``."""
    evaluation = period_settle(agreements=agreement_list_evaluated(), period=parse_period(period))
    counts: dict[str, int] = {}
    for result in evaluation.results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return counts


@shared_task(name="credits.settle_fanout", base=PlatformTask)
def settle_fanout() -> int:
    """Beat entry point (public schema): one settle_tenant per tenant and due period."""
    sent = 0
    for tenant in tenant_list_serving():
        with schema_context(tenant.schema_name):
            for label in periods_due():
                settle_tenant.delay(label)
                sent += 1
    return sent


@shared_task(name="credits.close_tenant")
def close_tenant() -> int:
    """Close the current tenant's periods that are past their grace window (idempotent)."""
    now = timezone.now()
    closed = 0
    for agreement, period in closes_due(list(agreement_list_evaluated()), now):
        closed += period_close(agreement=agreement, period=period, now=now)
    return closed


@shared_task(name="credits.close_fanout", base=PlatformTask)
def close_fanout() -> int:
    """Beat entry point (public schema), daily: one close_tenant per tenant."""
    for tenant in tenant_list_serving():
        with schema_context(tenant.schema_name):
            close_tenant.delay()
    return tenant_list_serving().count()

"""Report jobs: dispatch every 15 minutes, a sweeper every 5, one task per report.

State-based: the dispatch sends whatever is due and not yet sent, so a missed beat
tick or an outage is caught up by the next run, and two dispatches (duplicate ticks,
two workers) cannot send twice: every send claims its run first (services.run_claim).
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.jobs import PlatformTask
from apps.reports.models import ReportSubscription
from apps.reports.services import run_send, runs_due, runs_lapsed
from apps.tenants.selectors import tenant_list_serving


@shared_task(name="reports.send_run")
def send_run(subscription_id: int, label: str) -> str:
    """Send one report (subscription × period) unless it is sent or held already."""
    subscription = ReportSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        return "gone"
    return run_send(subscription, label)


@shared_task(name="reports.dispatch")
def dispatch() -> int:
    """Queue every report of this tenant that is due now."""
    due = runs_due(timezone.now())
    for subscription_id, label in due:
        send_run.delay(subscription_id, label)
    return len(due)


@shared_task(name="reports.sweep")
def sweep() -> int:
    """Queue the reports whose worker died mid-send (their claim's lease ran out)."""
    lapsed = runs_lapsed(timezone.now())
    for subscription_id, label in lapsed:
        send_run.delay(subscription_id, label)
    return len(lapsed)


def _fan_out(task: object) -> int:
    count = 0
    for tenant in tenant_list_serving():
        with schema_context(tenant.schema_name):
            task.delay()  # type: ignore[attr-defined]
            count += 1
    return count


@shared_task(name="reports.dispatch_fanout", base=PlatformTask)
def dispatch_fanout() -> int:
    """Beat entry point (public schema): one dispatch per tenant."""
    return _fan_out(dispatch)


@shared_task(name="reports.sweep_fanout", base=PlatformTask)
def sweep_fanout() -> int:
    """Beat entry point (public schema): one sweep per tenant."""
    return _fan_out(sweep)

"""Notification jobs: beat fans out one detect-and-dispatch per tenant every 15 minutes.

``detect_and_dispatch`` records the notices the current state calls for, plans
their deliveries and sends what is due. A retry due before the next beat tick is
sent by a follow-up ``dispatch`` scheduled for that moment (countdowns of at most
90 s, so the message is acknowledged within the broker's visibility timeout); later
ones wait for beat. Claims make any
number of concurrent dispatches safe. Tasks take no arguments: everything is read
from the tenant's schema.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.jobs import PlatformTask
from apps.notifications.delivery import Outcome, dispatch_due
from apps.notifications.detection import notices_detect
from apps.tenants.selectors import tenant_list_serving

# Retries due sooner than this are sent by a follow-up task, later ones by beat. A
# countdown waits in the worker, un-acknowledged: it plus the task's hard time limit
# (180 s) must stay under the broker's visibility timeout (280 s), or the message is
# handed to a second worker while the first still holds it (ADR 0006).
FOLLOW_UP_WITHIN = timedelta(seconds=90)


def _follow_up(outcome: Outcome) -> int | None:
    """Schedule a dispatch for the next due delivery if it is due before beat's next tick."""
    if outcome.next_due is None:
        return None
    wait = max((outcome.next_due - timezone.now()).total_seconds(), 0)
    if wait >= FOLLOW_UP_WITHIN.total_seconds():
        return None
    countdown = int(wait) + 1
    dispatch.apply_async(countdown=countdown)
    return countdown


@shared_task(name="notifications.dispatch")
def dispatch() -> dict[str, int]:
    """Send this tenant's due deliveries (retries, admin "retry now", test events)."""
    outcome = dispatch_due()
    _follow_up(outcome)
    return {"sent": outcome.sent, "failed": outcome.failed}


@shared_task(name="notifications.detect_and_dispatch")
def detect_and_dispatch() -> dict[str, int]:
    """Record and plan this tenant's new notices, then send what is due."""
    planned = notices_detect()
    outcome = dispatch_due()
    _follow_up(outcome)
    return {"planned": planned, "sent": outcome.sent, "failed": outcome.failed}


@shared_task(name="notifications.detect_fanout", base=PlatformTask)
def detect_fanout() -> int:
    """Beat entry point (public schema): one detect_and_dispatch per tenant."""
    sent = 0
    for tenant in tenant_list_serving():
        with schema_context(tenant.schema_name):
            detect_and_dispatch.delay()
            sent += 1
    return sent

"""Scheduled settlement (apps.credits.tasks): the periods due, and beat's fan-out per tenant."""

from __future__ import annotations

import pytest

from apps.credits.tasks import periods_due, settle_fanout
from tests.support.engine import utc


def test_periods_due_include_the_previous_period_during_grace():
    assert periods_due(utc(2026, 11, 3)) == ["2026-11", "2026-10", "2026-Q4"]
    assert periods_due(utc(2026, 11, 21)) == ["2026-11", "2026-Q4"]
    assert periods_due(utc(2027, 1, 2)) == ["2027-01", "2026-12", "2027-Q1", "2026-Q4"]


@pytest.mark.django_db
@pytest.mark.integration
def test_beat_fanout_runs_in_public_and_sends_one_task_per_tenant_and_period(
    celery_worker_process,
):
    from apps.tenants.selectors import tenant_list_serving

    expected = tenant_list_serving().count() * len(periods_due())

    sent = settle_fanout.delay().get(timeout=60)  # a PlatformTask: public is fine

    assert sent == expected and sent >= 2 * len(periods_due())

"""Jobs: beat's fan-out (one task per tenant), the tenant task, follow-ups for near retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from apps.core.jobs import PublicSchemaError
from apps.core.tenancy import current_schema
from apps.notifications import tasks
from apps.notifications.delivery import Outcome
from apps.notifications.models import Delivery, Notice, WebhookEndpoint
from apps.tenants.selectors import tenant_list_serving
from tests.conftest import TENANT_A
from tests.notifications.conftest import NOW, at_risk_result

pytestmark = pytest.mark.django_db


def test_beat_runs_the_fanout_every_15_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["notifications-every-15-minutes"]
    assert entry == {"task": "notifications.detect_fanout", "schedule": 15 * 60}


def test_the_fanout_sends_one_task_per_tenant_in_its_schema(monkeypatch, world_a):
    schemas: list[str] = []
    monkeypatch.setattr(
        tasks.detect_and_dispatch, "delay", lambda: schemas.append(current_schema())
    )
    assert tasks.detect_fanout() == len(schemas)
    assert sorted(schemas) == sorted(t.schema_name for t in tenant_list_serving())
    assert TENANT_A.schema in schemas


def test_the_tenant_task_detects_sends_and_follows_up_a_near_retry(monkeypatch, world_a, receiver):
    countdowns: list[int] = []
    monkeypatch.setattr(
        tasks.dispatch, "apply_async", lambda countdown: countdowns.append(countdown)
    )
    with schema_context(TENANT_A.schema):
        endpoint = WebhookEndpoint.objects.create(party=world_a.party_x, url=receiver.url)
        receiver.secret = endpoint.secret
        receiver.statuses = [500]
        at_risk_result(world_a)
        assert tasks.detect_and_dispatch() == {"planned": 1, "sent": 0, "failed": 1}
        assert countdowns == [61]  # the 1-minute retry, before beat's next tick
        assert Notice.objects.count() == 1 and Delivery.objects.count() == 1
    with pytest.raises(PublicSchemaError):
        tasks.detect_and_dispatch()  # never in the public schema


def test_a_follow_up_is_acknowledged_within_the_brokers_visibility_timeout():
    """A countdown is held by the worker un-acknowledged; held past the visibility
    timeout, the broker would hand the message to a second worker as well."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    longest = tasks.FOLLOW_UP_WITHIN.total_seconds() + 1 + settings.CELERY_TASK_TIME_LIMIT
    assert longest < visibility


def test_retries_beyond_the_next_tick_are_left_to_beat(monkeypatch):
    countdowns: list[int] = []
    monkeypatch.setattr(
        tasks.dispatch, "apply_async", lambda countdown: countdowns.append(countdown)
    )
    assert tasks._follow_up(Outcome(next_due=None)) is None
    assert tasks._follow_up(Outcome(next_due=NOW + timedelta(hours=1))) is None
    assert tasks._follow_up(Outcome(next_due=NOW - timedelta(minutes=3))) == 1  # overdue
    assert countdowns == [1]


@pytest.mark.integration
def test_the_fanout_runs_on_a_real_worker_from_the_public_schema(celery_worker_process):
    expected = tenant_list_serving().count()
    assert tasks.detect_fanout.delay().get(timeout=60) == expected >= 2

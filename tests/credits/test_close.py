"""Closing a period after its grace window: results final, the credit settled, once — a
period closed twice (a repeated daily tick, two workers) issues nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.calendars.periods import parse_period
from apps.credits.models import CreditEvent, PeriodClose, ServiceCredit
from apps.credits.settlement import GRACE, closes_due, period_close
from apps.credits.tasks import close_tenant
from apps.measurements.models import Outage

pytestmark = pytest.mark.django_db

OCTOBER = parse_period("2026-10")
AFTER_GRACE = datetime(2026, 11, 1, tzinfo=UTC) + GRACE + timedelta(hours=2)


@pytest.fixture
def missed_october(world, time_machine):
    """A day-long outage in October: agreement_x misses 99.9 % and earns its 10 % tier."""
    time_machine.move_to(AFTER_GRACE, tick=False)
    Outage.objects.create(
        external_id="close-1",
        service=world.service,
        start=datetime(2026, 10, 7, 6, tzinfo=UTC),
        end=datetime(2026, 10, 7, 18, tzinfo=UTC),
    )
    return world


def test_a_period_closed_twice_settles_and_credits_once(missed_october):
    agreement = missed_october.agreement_x
    assert (agreement, OCTOBER) in [(a, p) for a, p in closes_due([agreement], AFTER_GRACE)]

    assert period_close(agreement=agreement, period=OCTOBER, now=AFTER_GRACE) is True
    [credit] = ServiceCredit.objects.filter(agreement=agreement, period="2026-10")
    events = CreditEvent.objects.filter(credit=credit).count()
    assert credit.amount > 0 and events >= 1
    assert all(r.final for r in agreement.compliance_results.filter(period="2026-10"))

    later = AFTER_GRACE + timedelta(days=1)
    assert period_close(agreement=agreement, period=OCTOBER, now=later) is False
    assert close_tenant() >= 1  # the daily job: the months before October, not October
    assert close_tenant() == 0  # the same job again (a repeated tick): nothing at all
    assert PeriodClose.objects.filter(agreement=agreement, period="2026-10").count() == 1
    [again] = ServiceCredit.objects.filter(agreement=agreement, period="2026-10")
    assert (again.pk, again.amount, again.status) == (credit.pk, credit.amount, credit.status)
    assert CreditEvent.objects.filter(credit=credit).count() == events
    assert (agreement, OCTOBER) not in closes_due([agreement], later)


def test_a_period_is_not_closed_before_its_grace_window_has_passed(world, time_machine):
    inside = datetime(2026, 11, 3, tzinfo=UTC)
    time_machine.move_to(inside, tick=False)
    assert OCTOBER.label not in {p.label for _, p in closes_due([world.agreement_x], inside)}
    assert period_close(agreement=world.agreement_x, period=OCTOBER, now=inside) is False
    assert not PeriodClose.objects.exists()

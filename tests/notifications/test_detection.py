"""Detection: every kind, once per subject × period × state, and nothing older than the lookback."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from apps.calendars.periods import parse_period
from apps.compliance.models import ComplianceResult
from apps.credits.services import credit_calculate
from apps.credits.transitions import credit_dispute, credit_resolve
from apps.notifications.detection import LOOKBACK, notice_candidates, notices_detect
from apps.notifications.models import Notice, NoticeKind
from apps.notifications.services import notices_record
from apps.revisions.services import revision_approve, revision_create
from tests.credits.helpers import result
from tests.notifications.conftest import NOW, at_risk_result, escalation

pytestmark = pytest.mark.django_db


def kinds() -> list[tuple[str, str, str, str]]:
    return sorted(Notice.objects.values_list("kind", "subject", "period", "state"))


def test_nothing_to_tell_makes_no_notice(world):
    assert notices_detect() == 0
    assert not Notice.objects.exists()


def test_at_risk_then_missed_is_told_once_each(world, time_machine):
    made = at_risk_result(world)
    assert notices_detect() == 1
    assert notices_detect() == 0  # again: nothing new
    [notice] = Notice.objects.all()
    subject = f"objective:{world.agreement_x.pk}:availability"
    assert (notice.kind, notice.subject, notice.period, notice.state) == (
        NoticeKind.OBJECTIVE_AT_RISK,
        subject,
        "2026-10",
        "at_risk",
    )
    assert notice.party == world.party_x and notice.agreement == world.agreement_x
    assert notice.path == f"/agreements/{world.agreement_x.pk}/periods/2026-10/"
    assert "at risk in 2026-10" in notice.title and "99.5 %" in notice.body

    # The period ends and the result is judged missed: a new state, a new notice.
    time_machine.move_to(NOW.replace(month=11, day=3))
    ComplianceResult.objects.filter(pk=made.pk).update(
        status="missed", margin=-0.9, computed_at=timezone.now()
    )
    assert notices_detect() == 1
    assert notices_detect() == 0
    assert kinds() == [
        (NoticeKind.OBJECTIVE_AT_RISK, subject, "2026-10", "at_risk"),
        (NoticeKind.OBJECTIVE_MISSED, subject, "2026-10", "missed"),
    ]


def test_at_risk_needs_a_negative_margin_in_an_open_period(world):
    at_risk_result(world, margin="0.2")  # pending but on track
    at_risk_result(world, period="2026-08")  # pending but the period is over (stale)
    assert notices_detect() == 0


def test_a_miss_older_than_the_lookback_is_not_told(world, time_machine):
    result(world, status="missed", period="2026-09")
    time_machine.move_to(NOW + LOOKBACK + timedelta(minutes=1))
    assert notices_detect() == 0
    assert not Notice.objects.exists()


def test_credit_calculated_disputed_and_resolved(world):
    result(world, status="missed", attained="99.0", period="2026-09")
    credit = credit_calculate(agreement=world.agreement_x, period=parse_period("2026-09"))
    assert credit is not None
    notices_detect()
    credit_dispute(credit=credit, acting_user=world.customer_x, note="Our monitor says 99.95 %.")
    notices_detect()
    credit_resolve(credit=credit, acting_user=world.manager, resolution="Split the difference.")
    notices_detect()
    notices_detect()

    subject = f"credit:{credit.pk}"
    assert [row for row in kinds() if row[1] == subject] == [
        (NoticeKind.CREDIT_CALCULATED, subject, "2026-09", "calculated"),
        (NoticeKind.DISPUTE_OPENED, subject, "2026-09", "disputed"),
        (NoticeKind.DISPUTE_RESOLVED, subject, "2026-09", "resolved"),
    ]
    calculated = Notice.objects.get(kind=NoticeKind.CREDIT_CALCULATED)
    assert "100.00 EUR" in calculated.title and calculated.path == f"/credits/{credit.pk}/"
    assert calculated.payload["data"]["credit"]["amount_text"] == "100.00 EUR"
    opened = Notice.objects.get(kind=NoticeKind.DISPUTE_OPENED)
    assert opened.payload["data"]["note"] == "Our monitor says 99.95 %."
    resolved = Notice.objects.get(kind=NoticeKind.DISPUTE_RESOLVED)
    assert "Split the difference." in resolved.body


def test_revision_awaiting_acceptance_and_review_due(world):
    revision = revision_create(
        agreement=world.agreement_x, acting_user=world.manager, effective_from=date(2026, 11, 1)
    )
    revision_approve(revision=revision, acting_user=world.manager)
    type(world.agreement_y).objects.filter(pk=world.agreement_y.pk).update(
        next_review_on=date(2026, 10, 1)
    )
    assert notices_detect() == 2
    assert notices_detect() == 0
    assert kinds() == [
        (NoticeKind.REVIEW_DUE, f"agreement:{world.agreement_y.pk}", "2026-10-01", "due"),
        (NoticeKind.REVISION_AWAITING_ACCEPTANCE, f"revision:{revision.pk}", "", "approved"),
    ]
    review = Notice.objects.get(kind=NoticeKind.REVIEW_DUE)
    assert review.party == world.party_y
    awaiting = Notice.objects.get(kind=NoticeKind.REVISION_AWAITING_ACCEPTANCE)
    assert awaiting.path == f"/agreements/{world.agreement_x.pk}/revisions/2/"
    assert awaiting.payload["data"]["revision"]["number"] == 2

    # The next review cycle (a new due date) is a new period: told again.
    type(world.agreement_y).objects.filter(pk=world.agreement_y.pk).update(
        next_review_on=date(2026, 10, 15)
    )
    assert notices_detect() == 1


def test_concurrent_or_repeated_inserts_never_duplicate(world):
    at_risk_result(world)
    candidates = notice_candidates(timezone.now())
    twins = notice_candidates(timezone.now())
    assert notices_record(candidates) == 1
    # A second run that read the state before the first one committed: ON CONFLICT DO NOTHING.
    Notice.objects.bulk_create(twins, ignore_conflicts=True)
    assert Notice.objects.count() == 1


def test_the_payload_has_the_documented_shape(world):
    at_risk_result(world)
    notices_detect()
    payload = Notice.objects.get().payload
    assert set(payload) == {
        "version",
        "event",
        "created_at",
        "tenant",
        "party",
        "agreement",
        "object",
        "period",
        "state",
        "title",
        "text",
        "url",
        "data",
    }  # stored as jsonb: the webhook body puts them in the documented order
    assert payload["version"] == 1 and payload["tenant"] == "alpha"
    assert (
        payload["url"]
        == f"https://alpha.localhost/agreements/{world.agreement_x.pk}/periods/2026-10/"
    )
    assert payload["object"]["type"] == "compliance_result"
    data = payload["data"]
    assert data["objective"]["target_text"] == "≥ 99.9 %"
    assert (data["attained"], data["margin"], data["status"]) == ("99.5000", "-0.4000", "pending")


def test_a_history_loaded_in_bulk_is_recorded_but_not_delivered(world, time_machine):
    """A provider's import of past months (or the demo) evaluated at once: the misses and
    credits of periods that ended long ago are recorded as told without a delivery; what
    is about the present is still delivered."""
    from apps.notifications.detection import notices_record_history
    from apps.notifications.models import Delivery

    escalation(world.party_x, "x-escalation@x.example")
    result(world, status="missed", attained="99.0", period="2026-06")
    old_credit = credit_calculate(agreement=world.agreement_x, period=parse_period("2026-06"))
    assert old_credit is not None
    at_risk_result(world)  # October, still running: news

    assert notices_record_history() == 2  # the June miss and the June credit
    assert notices_detect() == 1  # only the October notice is planned now
    told = Notice.objects.filter(period="2026-06")
    assert sorted(told.values_list("kind", flat=True)) == [
        NoticeKind.CREDIT_CALCULATED,
        NoticeKind.OBJECTIVE_MISSED,
    ]
    assert not Delivery.objects.filter(notice__in=told).exists()
    assert Delivery.objects.filter(notice__period="2026-10").exists()

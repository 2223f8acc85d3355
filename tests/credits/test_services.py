"""credit_calculate: create, update while calculated, never silently rewrite, idempotent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context

from apps.calendars.periods import parse_period
from apps.credits.models import CreditEvent, CreditStatus, ServiceCredit
from apps.credits.services import credit_calculate
from apps.credits.transitions import credit_approve
from tests.conftest import TENANT_A
from tests.credits.helpers import Plan, result, revision_with_tiers

OCTOBER = parse_period("2026-10")


@pytest.fixture
def a(world_a):
    """Run in tenant A with world_a."""
    with schema_context(TENANT_A.schema):
        yield world_a


def _writes(credit_id: int) -> tuple[int, int]:
    """(events, history rows) of a credit: what a calculation wrote."""
    return (
        CreditEvent.objects.filter(credit_id=credit_id).count(),
        ServiceCredit.history.filter(id=credit_id).count(),
    )


def test_a_missed_objective_creates_a_calculated_credit(a):
    result(a, attained="99.5")  # tier_x: below 99.9 -> 10 % of 1000.00 EUR

    credit = credit_calculate(agreement=a.agreement_x, period=OCTOBER, acting_user=a.manager)

    credit.refresh_from_db()
    assert credit.status == CreditStatus.CALCULATED
    assert (credit.percent, credit.uncapped_percent, credit.cap_percent) == (10, 10, 100)
    assert credit.fee_basis == Decimal("1000") and credit.amount == Decimal("100.00")
    assert credit.currency == "EUR" and credit.revision == a.revision_x
    assert [item["key"] for item in credit.objectives] == ["availability"]
    [event] = credit.events.all()
    assert (event.from_status, event.to_status, event.by) == ("", "calculated", a.manager)
    assert event.amount == Decimal("100.00")
    assert credit.history.get().history_user == a.manager


def test_calculating_twice_changes_nothing(a):
    result(a, attained="99.5")
    first = credit_calculate(agreement=a.agreement_x, period=OCTOBER)
    writes = _writes(first.pk)
    calculated_at = ServiceCredit.objects.get(pk=first.pk).calculated_at

    second = credit_calculate(agreement=a.agreement_x, period=OCTOBER)

    assert second.pk == first.pk
    assert _writes(first.pk) == writes
    assert ServiceCredit.objects.get(pk=first.pk).calculated_at == calculated_at


def test_nothing_missed_means_no_credit(a):
    result(a, status="met", attained="99.95")

    assert credit_calculate(agreement=a.agreement_x, period=OCTOBER) is None
    assert not ServiceCredit.objects.exists()


def test_a_calculated_credit_follows_the_results_of_its_period_only(a):
    row = result(a, attained="99.5")
    credit = credit_calculate(agreement=a.agreement_x, period=OCTOBER)
    result(a, attained="90", period="2026-11")  # another period: its own credit, later
    row.attained = Decimal("99.0")  # the same tier: same money, new detail
    row.save()

    credit_calculate(agreement=a.agreement_x, period=OCTOBER)

    credit.refresh_from_db()
    assert credit.amount == Decimal("100.00")
    assert credit.objectives[0]["attained"] == "99"
    assert credit.events.last().note.startswith("Recalculated: was 10 % = 100.00 EUR")
    assert ServiceCredit.objects.filter(agreement=a.agreement_x).count() == 1


def test_recalculation_of_a_calculated_credit_records_what_changed(a):
    revision, objectives = revision_with_tiers(
        a, plans=[Plan("uptime", [("99.9", "10"), ("99.0", "30")])]
    )
    row = result(a, objective=objectives["uptime"], attained="99.5")
    credit = credit_calculate(agreement=a.agreement_x, period=OCTOBER)
    row.attained = Decimal("98.0")
    row.save()

    credit_calculate(agreement=a.agreement_x, period=OCTOBER, acting_user=a.manager)

    credit.refresh_from_db()
    assert credit.revision == revision
    assert credit.percent == 30 and credit.amount == Decimal("300.00")
    last = credit.events.last()
    assert last.by == a.manager and last.from_status == last.to_status == "calculated"
    assert "was 10 % = 100.00 EUR" in last.note and "30 %" in last.note


def test_a_calculated_credit_that_no_longer_applies_is_deleted_with_history(a):
    row = result(a, attained="99.5")
    credit = credit_calculate(agreement=a.agreement_x, period=OCTOBER)
    row.status, row.attained = "met", Decimal("99.95")
    row.save()

    assert credit_calculate(agreement=a.agreement_x, period=OCTOBER, acting_user=a.manager) is None

    assert not ServiceCredit.objects.filter(pk=credit.pk).exists()
    deleted = ServiceCredit.history.filter(id=credit.pk).first()
    assert deleted.history_type == "-" and deleted.history_user == a.manager
    # A later correction of the data brings it back.
    row.status, row.attained = "missed", Decimal("99.5")
    row.save()
    assert credit_calculate(agreement=a.agreement_x, period=OCTOBER).amount == Decimal("100.00")


@pytest.mark.parametrize("status", ["approved", "issued", "disputed", "resolved", "void"])
def test_a_credit_past_calculated_is_never_rewritten(a, status):
    row = result(a, attained="99.5")
    credit = credit_calculate(agreement=a.agreement_x, period=OCTOBER)
    ServiceCredit.objects.filter(pk=credit.pk).update(status=status)
    before = ServiceCredit.objects.values().get(pk=credit.pk)
    writes = _writes(credit.pk)
    row.status, row.attained = "met", Decimal("99.95")
    row.save()

    again = credit_calculate(agreement=a.agreement_x, period=OCTOBER)
    credit_calculate(agreement=a.agreement_x, period=OCTOBER)  # the same finding: noted once

    assert again.pk == credit.pk
    assert ServiceCredit.objects.values().get(pk=credit.pk) == before
    note = CreditEvent.objects.filter(credit_id=credit.pk).last()
    assert _writes(credit.pk) == (writes[0] + 1, writes[1])
    assert (note.from_status, note.to_status) == (status, status)
    assert note.note == (
        f"Recalculation found no credit owed; the credit is {status} at 10 % = 100.00 EUR "
        "and was not changed."
    )


def test_differing_figures_are_noted_once_and_agreement_again_too(a):
    _, objectives = revision_with_tiers(a, plans=[Plan("uptime", [("99.9", "10"), ("99", "30")])])
    row = result(a, objective=objectives["uptime"], attained="99.5")
    credit = credit_calculate(agreement=a.agreement_x, period=OCTOBER)
    credit_approve(credit=credit, acting_user=a.manager)

    row.attained = Decimal("98.0")
    row.save()
    credit_calculate(agreement=a.agreement_x, period=OCTOBER)
    credit_calculate(agreement=a.agreement_x, period=OCTOBER)
    row.attained = Decimal("99.5")
    row.save()
    credit_calculate(agreement=a.agreement_x, period=OCTOBER)
    credit_calculate(agreement=a.agreement_x, period=OCTOBER)

    notes = list(credit.events.values_list("note", flat=True))
    assert notes[2:] == [
        "Recalculation found 30 % of 1000.00 EUR = 300.00 EUR; "
        "the credit is approved at 10 % = 100.00 EUR and was not changed.",
        "Recalculation agrees with the credit's figures again.",
    ]
    credit.refresh_from_db()
    assert (credit.status, credit.amount, credit.percent) == ("approved", Decimal("100.00"), 10)


def test_a_capped_recalculation_is_described_with_its_cap(a):
    result(a, attained="99.5")
    credit = credit_calculate(agreement=a.agreement_x, period=OCTOBER)
    credit_approve(credit=credit, acting_user=a.manager)
    revision_with_tiers(a, plans=[], cap="5")  # a new revision in force: the cap is now 5 %

    credit_calculate(agreement=a.agreement_x, period=OCTOBER)

    assert credit.events.last().note == (
        "Recalculation found 5 % (uncapped 10 %, cap 5 %) of 1000.00 EUR = 50.00 EUR; "
        "the credit is approved at 10 % = 100.00 EUR and was not changed."
    )
    assert ServiceCredit.objects.get(pk=credit.pk).amount == Decimal("100.00")


def test_the_cap_comes_from_the_revision_in_force(a):
    _, objectives = revision_with_tiers(
        a, plans=[Plan(key, [("99.9", "20")]) for key in ("a", "b")], cap="25"
    )
    for objective in objectives.values():
        result(a, objective=objective, attained="99.0")

    credit = credit_calculate(agreement=a.agreement_x, period=OCTOBER)

    assert (credit.uncapped_percent, credit.percent, credit.cap_percent) == (40, 25, 25)
    assert credit.amount == Decimal("250.00")


def test_a_quarter_is_credited_on_three_monthly_fees(a):
    result(a, attained="99.5", period="2026-Q4")

    credit = credit_calculate(agreement=a.agreement_x, period=parse_period("2026-Q4"))

    assert credit.fee_basis == Decimal("3000.00") and credit.amount == Decimal("300.00")


def test_calculation_refuses_bad_input_and_non_staff(a):
    with pytest.raises(PermissionDenied):
        credit_calculate(agreement=a.agreement_x, period=OCTOBER, acting_user=a.customer_x)
    result(a, attained="99.5", period="2025-12")  # before revision 1 takes effect
    with pytest.raises(ValidationError, match="no binding revision in force on 2025-12-01"):
        credit_calculate(agreement=a.agreement_x, period=parse_period("2025-12"))

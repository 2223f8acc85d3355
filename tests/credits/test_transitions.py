"""The credit lifecycle: who may move a credit where, and what every move records."""

from __future__ import annotations

from decimal import Decimal
from itertools import product

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context

from apps.calendars.periods import parse_period
from apps.compliance.models import ComplianceResult
from apps.credits.models import CreditStatus, ServiceCredit
from apps.credits.services import credit_calculate
from apps.credits.transitions import (
    credit_approve,
    credit_dispute,
    credit_issue,
    credit_resolve,
    credit_transition,
    credit_void,
)
from tests.conftest import TENANT_A
from tests.credits.helpers import result

# Written out by hand (not read from TRANSITIONS) so that a change of the table shows here.
ALLOWED = {
    ("calculated", "approved"): "manager",
    ("calculated", "disputed"): "customer_x",
    ("calculated", "void"): "manager",
    ("approved", "issued"): "manager",
    ("approved", "disputed"): "customer_x",
    ("approved", "void"): "manager",
    ("disputed", "resolved"): "manager",
    ("disputed", "void"): "manager",
    ("resolved", "issued"): "manager",
}
CUSTOMER_MOVES = {"disputed"}
STATUSES = [status.value for status in CreditStatus]
TARGETS = [status for status in STATUSES if status != "calculated"]
TEXTS = {"note": "Because.", "resolution": "Agreed on a call."}


@pytest.fixture
def a(world_a):
    with schema_context(TENANT_A.schema):
        yield world_a


@pytest.fixture
def credit(a):
    result(a, attained="99.5")
    return credit_calculate(agreement=a.agreement_x, period=parse_period("2026-10"))


def _move(credit, to_status, user):
    texts = {"note": TEXTS["note"]}
    if to_status == "resolved":
        texts["resolution"] = TEXTS["resolution"]
    return credit_transition(credit=credit, to_status=to_status, acting_user=user, **texts)


@pytest.mark.parametrize(("from_status", "to_status"), list(product(STATUSES, TARGETS)))
@pytest.mark.parametrize("who", ["manager", "customer_x"])
def test_every_move_for_both_roles(a, credit, from_status, to_status, who):
    ServiceCredit.objects.filter(pk=credit.pk).update(status=from_status)
    user = getattr(a, who)
    allowed_for = ALLOWED.get((from_status, to_status))
    may_ever = who == ("customer_x" if to_status in CUSTOMER_MOVES else "manager")

    if allowed_for == who:
        moved = _move(credit, to_status, user)
        assert moved.status == to_status
        assert ServiceCredit.objects.get(pk=credit.pk).status == to_status
    elif not may_ever:
        with pytest.raises(PermissionDenied):
            _move(credit, to_status, user)
        assert ServiceCredit.objects.get(pk=credit.pk).status == from_status
    else:
        with pytest.raises(ValidationError) as error:
            _move(credit, to_status, user)
        assert f"The credit is {from_status}" in str(error.value)
        assert ServiceCredit.objects.get(pk=credit.pk).status == from_status


@pytest.mark.parametrize("who", ["staff", "customer_y"])
def test_staff_without_the_manager_role_and_other_customers_move_nothing(a, credit, who):
    for from_status, to_status in product(STATUSES, TARGETS):
        ServiceCredit.objects.filter(pk=credit.pk).update(status=from_status)
        with pytest.raises(PermissionDenied):
            _move(credit, to_status, getattr(a, who))
        assert ServiceCredit.objects.get(pk=credit.pk).status == from_status


def test_a_refused_move_names_the_status_and_the_allowed_moves(a, credit):
    credit_approve(credit=credit, acting_user=a.manager)

    with pytest.raises(ValidationError) as error:
        credit_approve(credit=credit, acting_user=a.manager)

    assert error.value.message_dict["status"] == [
        "The credit is approved; it cannot be moved to approved. "
        "Allowed moves from approved: disputed, issued, void."
    ]
    credit_issue(credit=credit, acting_user=a.manager)
    with pytest.raises(ValidationError, match="Allowed moves from issued: none"):
        credit_void(credit=credit, acting_user=a.manager, note="Too late.")


def test_the_wrong_role_is_told_who_may(a, credit):
    with pytest.raises(PermissionDenied, match="Only a provider manager may approve"):
        credit_approve(credit=credit, acting_user=a.staff)
    with pytest.raises(PermissionDenied, match="Only a manager of the customer may dispute"):
        credit_dispute(credit=credit, acting_user=a.manager, note="Not mine to dispute.")


def test_each_step_records_who_when_what_in_events_and_history(a, credit):
    credit_approve(credit=credit, acting_user=a.manager, note="Checked.")
    credit_dispute(credit=credit, acting_user=a.customer_x, note="The outage was longer.")
    credit_resolve(
        credit=credit,
        acting_user=a.manager,
        resolution="Outage confirmed at 3 h.",
        amount=Decimal("250"),
    )
    credit_issue(credit=credit, acting_user=a.manager)

    events = list(credit.events.all())
    steps = [(e.from_status, e.to_status, e.by, e.amount) for e in events]
    assert steps == [
        ("", "calculated", None, Decimal("100.000")),
        ("calculated", "approved", a.manager, Decimal("100.000")),
        ("approved", "disputed", a.customer_x, Decimal("100.000")),
        ("disputed", "resolved", a.manager, Decimal("250.000")),
        ("resolved", "issued", a.manager, Decimal("250.000")),
    ]
    assert events[2].note == "The outage was longer."
    assert events[3].note == (
        "Outage confirmed at 3 h.\nAmount changed from 100.00 EUR to 250.00 EUR."
    )
    assert all(e.at is not None for e in events)
    history = list(credit.history.order_by("history_id"))
    assert [(h.status, h.history_user) for h in history] == [
        ("calculated", None),
        ("approved", a.manager),
        ("disputed", a.customer_x),
        ("resolved", a.manager),
        ("issued", a.manager),
    ]
    credit.refresh_from_db()
    assert credit.amount == Decimal("250") and credit.percent == 10  # percent: as calculated
    assert credit.resolution == "Outage confirmed at 3 h."


@pytest.mark.parametrize(
    ("service", "kwargs", "field"),
    [
        (credit_dispute, {"note": "  "}, "note"),
        (credit_void, {"note": ""}, "note"),
    ],
)
def test_dispute_and_void_need_a_note(a, credit, service, kwargs, field):
    user = a.customer_x if service is credit_dispute else a.manager

    with pytest.raises(ValidationError) as error:
        service(credit=credit, acting_user=user, **kwargs)

    assert field in error.value.message_dict
    assert ServiceCredit.objects.get(pk=credit.pk).status == "calculated"


@pytest.mark.parametrize(
    ("resolution", "amount", "message"),
    [
        ("", None, "Describe how the dispute was resolved"),
        ("Agreed.", Decimal("1000.01"), "between 0 and the cap of 1000.00 EUR"),
        ("Agreed.", Decimal("-1"), "between 0 and the cap"),
        ("Agreed.", Decimal("10.005"), "EUR has 2 decimal places"),
    ],
)
def test_resolve_needs_a_resolution_and_an_amount_within_the_cap(
    a, credit, resolution, amount, message
):
    credit_dispute(credit=credit, acting_user=a.customer_x, note="Wrong.")

    with pytest.raises(ValidationError, match=message):
        credit_resolve(credit=credit, acting_user=a.manager, resolution=resolution, amount=amount)

    credit.refresh_from_db()
    assert (credit.status, credit.amount) == ("disputed", Decimal("100.00"))


def test_resolve_without_an_amount_keeps_it(a, credit):
    credit_dispute(credit=credit, acting_user=a.customer_x, note="Wrong.")

    resolved = credit_resolve(credit=credit, acting_user=a.manager, resolution="Figures stand.")

    assert resolved.amount == Decimal("100.00") and resolved.status == "resolved"
    assert credit.events.last().note == "Figures stand."


def test_only_resolve_takes_a_resolution_or_an_amount(a, credit):
    with pytest.raises(ValidationError, match="belong to resolve only"):
        credit_transition(
            credit=credit, to_status="approved", acting_user=a.manager, amount=Decimal("5")
        )
    with pytest.raises(ValidationError, match="not a credit status"):
        credit_transition(credit=credit, to_status="paid", acting_user=a.manager)


def test_issuing_makes_the_results_of_that_period_final(a, credit):
    elsewhere = result(a, attained="99.5", period="2026-11")
    credit_approve(credit=credit, acting_user=a.manager)
    assert not ComplianceResult.objects.filter(final=True).exists()

    credit_issue(credit=credit, acting_user=a.manager)

    finals = ComplianceResult.objects.filter(agreement=a.agreement_x, final=True)
    assert list(finals.values_list("period", flat=True)) == ["2026-10"]
    elsewhere.refresh_from_db()
    assert elsewhere.final is False

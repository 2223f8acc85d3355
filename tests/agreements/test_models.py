"""Agreements: kind, tiers and parents, money and term, review cadence, no loops."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from apps.agreements.models import Agreement, Tier
from apps.agreements.services import agreement_save
from apps.parties.models import PartyKind
from apps.parties.services import party_save
from apps.revisions.services import revision_accept, revision_approve, revision_create
from tests.conftest import agreement_for


def test_kind_is_derived_from_the_customer(world):
    finance = party_save(
        acting_user=world.admin, name="Finance", kind=PartyKind.INTERNAL, parent=world.provider
    )
    internal = agreement_for(world, "INT-1", Tier.SERVICE, customer=finance)
    assert (internal.kind, world.agreement_x.kind) == ("internal", "customer")


@pytest.mark.parametrize(
    ("child_tier", "parent_tier", "ok"),
    [
        (Tier.CUSTOMER, Tier.CORPORATE, True),
        (Tier.SERVICE, Tier.CUSTOMER, True),
        (Tier.SERVICE, Tier.CORPORATE, True),
        (Tier.CORPORATE, Tier.CUSTOMER, False),
        (Tier.CUSTOMER, Tier.CUSTOMER, False),
        (Tier.CUSTOMER, Tier.SERVICE, False),
    ],
)
def test_a_child_sits_under_a_higher_tier(world, child_tier, parent_tier, ok):
    parent = agreement_for(world, "PARENT", parent_tier)
    if ok:
        assert agreement_for(world, "CHILD", child_tier, parent=parent).parent == parent
    else:
        with pytest.raises(ValidationError, match="higher tier"):
            agreement_for(world, "CHILD", child_tier, parent=parent)
        assert not Agreement.objects.filter(reference="CHILD").exists()


def test_a_child_covers_the_parents_customer_or_its_subsidiaries(world):
    corporate = agreement_for(world, "CORP", Tier.CORPORATE)
    with pytest.raises(ValidationError, match="subsidiaries"):
        agreement_for(world, "OTHER", Tier.CUSTOMER, customer=world.party_y, parent=corporate)
    sub = party_save(
        acting_user=world.admin, name="X GmbH", kind=PartyKind.CUSTOMER, parent=world.party_x
    )
    assert agreement_for(world, "SUB", Tier.CUSTOMER, customer=sub, parent=corporate)


def test_money_and_term_validation(world):
    with pytest.raises(ValidationError) as excinfo:
        agreement_for(
            world,
            "BAD",
            Tier.SERVICE,
            monthly_fee=Decimal("10.005"),
            currency="EUR",
            term_end=date(2025, 1, 1),
        )
    assert set(excinfo.value.message_dict) == {"monthly_fee", "term_end"}
    assert agreement_for(world, "KWD", Tier.SERVICE, monthly_fee=Decimal("10.005"), currency="KWD")


def test_review_cadence_age_and_due(world):
    agreement = agreement_for(world, "REV", Tier.SERVICE, review_every_months=6)
    assert agreement.next_review_on == date(2026, 7, 1)
    assert agreement.age_days is None  # not signed yet

    revision = revision_create(
        agreement=agreement, acting_user=world.manager, effective_from=date(2026, 1, 1)
    )
    revision_approve(revision=revision, acting_user=world.manager)
    with time_machine.travel(date(2026, 1, 10)):
        revision_accept(revision=revision, acting_user=world.customer_x)
    agreement.refresh_from_db()
    assert agreement.signed_on == date(2026, 1, 10)
    assert agreement.next_review_on == date(2026, 7, 10)
    with time_machine.travel(date(2026, 7, 10) - timedelta(days=1)):
        assert not agreement.review_due and agreement.age_days == 180
    with time_machine.travel(date(2026, 7, 10)):
        assert agreement.review_due


def test_an_agreement_hierarchy_cannot_loop(world):
    corporate = agreement_for(world, "LOOP-CORP", Tier.CORPORATE)
    customer = agreement_for(world, "LOOP-CUST", Tier.CUSTOMER, parent=corporate)

    with pytest.raises(ValidationError, match="higher tier"):
        agreement_save(agreement=corporate, acting_user=world.admin, parent=customer)
    with pytest.raises(ValidationError, match="its own parent"):
        agreement_save(agreement=customer, acting_user=world.admin, parent=customer)
    assert Agreement.objects.get(pk=corporate.pk).parent is None

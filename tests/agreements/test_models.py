"""Parties, agreements at three tiers, inheritance and override of objectives."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from apps.agreements.models import Agreement, Tier
from apps.agreements.services import agreement_save
from apps.parties.models import Party, PartyKind
from apps.parties.selectors import party_ids_visible_to
from apps.parties.services import party_save
from apps.revisions.models import Metric
from apps.revisions.selectors import effective_objectives
from apps.revisions.services import (
    objective_save,
    revision_accept,
    revision_approve,
    revision_create,
)


@pytest.fixture
def world(world_a, in_a):
    return world_a


# --- parties ---------------------------------------------------------------------------


def test_party_hierarchy_rules(world):
    group = party_save(acting_user=world.admin, name="Group", kind=PartyKind.CUSTOMER)
    subsidiary = party_save(
        acting_user=world.admin, name="Sub", kind=PartyKind.CUSTOMER, parent=group
    )
    department = party_save(
        acting_user=world.admin, name="Finance", kind=PartyKind.INTERNAL, parent=world.provider
    )
    assert subsidiary.parent == group and department.parent == world.provider

    with pytest.raises(ValidationError, match="cannot belong"):
        party_save(acting_user=world.admin, name="Odd", kind=PartyKind.INTERNAL, parent=group)
    with pytest.raises(ValidationError, match="cannot belong"):
        party_save(
            acting_user=world.admin, name="Odd2", kind=PartyKind.CUSTOMER, parent=world.provider
        )
    assert not Party.objects.filter(name__startswith="Odd").exists()


def test_party_cycles_are_refused(world):
    a = party_save(acting_user=world.admin, name="A", kind=PartyKind.CUSTOMER)
    b = party_save(acting_user=world.admin, name="B", kind=PartyKind.CUSTOMER, parent=a)
    c = party_save(acting_user=world.admin, name="C", kind=PartyKind.CUSTOMER, parent=b)

    with pytest.raises(ValidationError, match="own ancestor"):
        party_save(party=a, acting_user=world.admin, parent=c)
    with pytest.raises(ValidationError, match="own ancestor"):
        party_save(party=a, acting_user=world.admin, parent=a)
    assert Party.objects.get(pk=a.pk).parent is None


def test_membership_reaches_descendants_only(world):
    sub = party_save(
        acting_user=world.admin, name="X Sub", kind=PartyKind.CUSTOMER, parent=world.party_x
    )
    visible = party_ids_visible_to(world.customer_x)

    assert {world.party_x.pk, sub.pk} <= visible
    assert world.party_y.pk not in visible and world.provider.pk not in visible
    assert party_ids_visible_to(world.manager) is None  # provider staff: everything


# --- agreements ------------------------------------------------------------------------


def _agreement(world, reference, tier, customer=None, parent=None, **extra):
    return agreement_save(
        acting_user=world.admin,
        reference=reference,
        title=reference,
        provider=world.provider,
        customer=customer or world.party_x,
        tier=tier,
        parent=parent,
        term_start=date(2026, 1, 1),
        **extra,
    )


def test_kind_is_derived_from_the_customer(world):
    finance = party_save(
        acting_user=world.admin, name="Finance", kind=PartyKind.INTERNAL, parent=world.provider
    )
    internal = _agreement(world, "INT-1", Tier.SERVICE, customer=finance)
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
    parent = _agreement(world, "PARENT", parent_tier)
    if ok:
        assert _agreement(world, "CHILD", child_tier, parent=parent).parent == parent
    else:
        with pytest.raises(ValidationError, match="higher tier"):
            _agreement(world, "CHILD", child_tier, parent=parent)
        assert not Agreement.objects.filter(reference="CHILD").exists()


def test_a_child_covers_the_parents_customer_or_its_subsidiaries(world):
    corporate = _agreement(world, "CORP", Tier.CORPORATE)
    with pytest.raises(ValidationError, match="subsidiaries"):
        _agreement(world, "OTHER", Tier.CUSTOMER, customer=world.party_y, parent=corporate)
    sub = party_save(
        acting_user=world.admin, name="X GmbH", kind=PartyKind.CUSTOMER, parent=world.party_x
    )
    assert _agreement(world, "SUB", Tier.CUSTOMER, customer=sub, parent=corporate)


def test_money_and_term_validation(world):
    with pytest.raises(ValidationError) as excinfo:
        _agreement(
            world,
            "BAD",
            Tier.SERVICE,
            monthly_fee=Decimal("10.005"),
            currency="EUR",
            term_end=date(2025, 1, 1),
        )
    assert set(excinfo.value.message_dict) == {"monthly_fee", "term_end"}
    assert _agreement(world, "KWD", Tier.SERVICE, monthly_fee=Decimal("10.005"), currency="KWD")


def test_review_cadence_age_and_due(world):
    agreement = _agreement(world, "REV", Tier.SERVICE, review_every_months=6)
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


# --- three tiers: inheritance and override --------------------------------------------------


def _binding_revision(world, agreement, objectives):
    revision = revision_create(
        agreement=agreement, acting_user=world.manager, effective_from=date(2026, 1, 1)
    )
    for key, metric, target, extra in objectives:
        objective_save(
            acting_user=world.manager,
            revision=revision,
            key=key,
            metric=metric,
            target=Decimal(target),
            **extra,
        )
    revision_approve(revision=revision, acting_user=world.manager)
    revision_accept(revision=revision, acting_user=world.customer_x)
    return revision


def test_three_tiers_inherit_and_override_by_key(world):
    corporate = _agreement(world, "T-CORP", Tier.CORPORATE)
    customer = _agreement(world, "T-CUST", Tier.CUSTOMER, parent=corporate)
    service = _agreement(world, "T-SVC", Tier.SERVICE, parent=customer)
    hour = {"threshold_seconds": 3600}
    _binding_revision(
        world,
        corporate,
        [
            ("availability", Metric.AVAILABILITY, "99.0", {}),
            ("response", Metric.RESPONSE_TIME, "90", hour),
            ("closure", Metric.CLOSURE_RATE, "80", {}),
        ],
    )
    _binding_revision(
        world,
        customer,
        [
            ("availability", Metric.AVAILABILITY, "99.5", {}),
            ("fcr", Metric.FIRST_CONTACT_RESOLUTION, "70", {}),
        ],
    )
    _binding_revision(world, service, [("availability", Metric.AVAILABILITY, "99.95", {})])

    effective = {e.key: e for e in effective_objectives(service, date(2026, 2, 1))}

    assert sorted(effective) == ["availability", "closure", "fcr", "response"]
    assert effective["availability"].objective.target == Decimal("99.95")
    assert effective["availability"].agreement == service
    assert not effective["availability"].inherited
    assert [o.target for o in effective["availability"].overrides] == [
        Decimal("99.5"),
        Decimal("99.0"),
    ]
    assert effective["fcr"].agreement == customer and effective["fcr"].inherited
    assert effective["response"].agreement == corporate and effective["response"].inherited

    # The customer tier sees its own and the corporate ones, never the child's.
    middle = {e.key: e for e in effective_objectives(customer, date(2026, 2, 1))}
    assert middle["availability"].objective.target == Decimal("99.5")
    assert sorted(middle) == ["availability", "closure", "fcr", "response"]
    # Before any revision is in force nothing applies.
    assert effective_objectives(service, date(2025, 12, 1)) == []


def test_an_agreement_hierarchy_cannot_loop(world):
    corporate = _agreement(world, "LOOP-CORP", Tier.CORPORATE)
    customer = _agreement(world, "LOOP-CUST", Tier.CUSTOMER, parent=corporate)

    with pytest.raises(ValidationError, match="higher tier"):
        agreement_save(agreement=corporate, acting_user=world.admin, parent=customer)
    with pytest.raises(ValidationError, match="its own parent"):
        agreement_save(agreement=customer, acting_user=world.admin, parent=customer)
    assert Agreement.objects.get(pk=corporate.pk).parent is None

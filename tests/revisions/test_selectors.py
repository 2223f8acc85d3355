"""effective_objectives: three tiers of agreements inherit objectives and override them by key."""

from datetime import date
from decimal import Decimal

from apps.agreements.models import Tier
from apps.revisions.models import Metric
from apps.revisions.selectors import effective_objectives
from apps.revisions.services import (
    objective_save,
    revision_accept,
    revision_approve,
    revision_create,
)
from tests.conftest import agreement_for


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
    corporate = agreement_for(world, "T-CORP", Tier.CORPORATE)
    customer = agreement_for(world, "T-CUST", Tier.CUSTOMER, parent=corporate)
    service = agreement_for(world, "T-SVC", Tier.SERVICE, parent=customer)
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

"""Building blocks for credit tests: revisions with tiers, and compliance results.

Call them inside ``schema_context(TENANT_A.schema)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.calendars.periods import parse_period
from apps.compliance.models import ComplianceResult
from apps.revisions.models import CreditTier, Objective, Revision
from apps.revisions.services import revision_accept, revision_approve, revision_create
from tests.conftest import World
from tests.factories import ObjectiveFactory


@dataclass
class Plan:
    """An objective to put on a revision and its tiers as (below, percent) pairs."""

    key: str
    tiers: list[tuple[str, str]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


def revision_with_tiers(
    world: World,
    *,
    plans: list[Plan],
    wide: Sequence[tuple[str, str]] = (),
    cap: str = "100",
    binding: bool = True,
) -> tuple[Revision, dict[str, Objective]]:
    """A new revision of agreement_x with objectives, their tiers and revision-wide tiers.

    ``binding``: approved and accepted, so it is in force from 2026-01-01 on.
    """
    revision = revision_create(
        agreement=world.agreement_x,
        acting_user=world.manager,
        effective_from=date(2026, 1, 1),
        credit_cap_percent=Decimal(cap),
    )
    objectives: dict[str, Objective] = {}
    for plan in plans:
        objective = ObjectiveFactory(revision=revision, key=plan.key, **plan.options)
        objectives[plan.key] = objective
        for below, percent in plan.tiers:
            CreditTier.objects.create(
                revision=revision,
                objective=objective,
                below=Decimal(below),
                percent=Decimal(percent),
            )
    for below, percent in wide:
        CreditTier.objects.create(revision=revision, below=Decimal(below), percent=Decimal(percent))
    if binding:
        revision_approve(revision=revision, acting_user=world.manager)
        revision_accept(revision=revision, acting_user=world.customer_x)
        revision.refresh_from_db()
    return revision, objectives


def result(
    world: World,
    *,
    objective: Objective | None = None,
    status: str = "missed",
    attained: str | None = "99.0",
    period: str = "2026-10",
    revision: Revision | None = None,
) -> ComplianceResult:
    """A ComplianceResult of agreement_x, as the evaluation would store it."""
    objective = objective or world.objective_x
    start, end = parse_period(period).bounds("UTC")
    return ComplianceResult.objects.create(
        agreement=world.agreement_x,
        objective=objective,
        revision=revision or objective.revision,
        key=objective.key,
        metric=objective.metric,
        period=period,
        period_start=start,
        period_end=end,
        target=objective.target,
        comparison=objective.comparison,
        attained=None if attained is None else Decimal(attained),
        status=status,
        computed_at=timezone.now(),
    )

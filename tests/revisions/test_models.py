"""The rules of a revision's terms: objectives (metric, target, period) and credit tiers."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.revisions.models import Metric
from apps.revisions.services import credit_tier_save, objective_save, revision_new_draft


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"metric": Metric.RESPONSE_TIME, "target": "90"}, "threshold_seconds"),
        ({"metric": Metric.AVAILABILITY, "target": "101"}, "target"),
        (
            {"metric": Metric.AVAILABILITY, "target": "99", "threshold_seconds": 60},
            "threshold_seconds",
        ),
        ({"metric": Metric.SAMPLE, "target": "250"}, "sample_metric"),
        ({"metric": Metric.TURNAROUND_TIME, "target": "3600", "aggregate": "sum"}, "aggregate"),
        ({"metric": Metric.CLOSURE_RATE, "target": "90", "aggregate": "p95"}, "aggregate"),
        ({"metric": Metric.AVAILABILITY, "target": "99", "key": "Bad Key"}, "key"),
    ],
)
def test_objective_rules(world, data, field):
    draft = revision_new_draft(
        revision=world.revision_x, acting_user=world.manager, effective_from=date(2026, 2, 1)
    )
    data = {"key": "new_one", **data, "target": Decimal(data["target"])}

    with pytest.raises(ValidationError) as excinfo:
        objective_save(acting_user=world.manager, revision=draft, **data)
    assert field in excinfo.value.message_dict


def test_quarterly_objective_needs_a_quarter_start(world):
    draft = revision_new_draft(
        revision=world.revision_x, acting_user=world.manager, effective_from=date(2026, 2, 1)
    )
    with pytest.raises(ValidationError) as excinfo:
        objective_save(
            acting_user=world.manager,
            revision=draft,
            key="q",
            metric=Metric.CLOSURE_RATE,
            target=Decimal(90),
            period="quarter",
        )
    assert "period" in excinfo.value.message_dict


def test_credit_tier_objective_must_belong_to_the_revision(world):
    draft = revision_new_draft(revision=world.revision_x, acting_user=world.manager)
    with pytest.raises(ValidationError) as excinfo:
        credit_tier_save(
            acting_user=world.manager,
            revision=draft,
            objective=world.objective_x,
            below=Decimal("99"),
            percent=Decimal(5),
        )
    assert "objective" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        credit_tier_save(
            acting_user=world.manager,
            revision=draft,
            objective=None,
            below=Decimal("99"),
            percent=Decimal(150),
        )
    assert "percent" in excinfo.value.message_dict

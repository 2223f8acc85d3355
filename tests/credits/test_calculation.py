"""The credit rules (apps.credits.calculation) on ComplianceResult rows stored with the ORM."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from apps.calendars.periods import parse_period
from apps.core.money import money_round
from apps.credits.calculation import credit_for_results, fee_basis_for
from apps.revisions.selectors import credit_tiers_by_revision
from tests.conftest import TENANT_A
from tests.credits.helpers import Plan, result, revision_with_tiers

EUR = {"cap_percent": Decimal("100"), "fee_basis": Decimal("1000.00"), "currency": "EUR"}


def _compute(results, **money):
    tiers = credit_tiers_by_revision(r.revision_id for r in results)
    return credit_for_results(results=results, tiers_by_revision=tiers, **{**EUR, **money})


@pytest.fixture
def schedule(world_a):
    """availability ≥ 99.99: below 99.99 → 10 %, below 99.0 → 25 %, below 95.0 → 100 %."""
    with schema_context(TENANT_A.schema):
        return revision_with_tiers(
            world_a,
            plans=[
                Plan(
                    "availability",
                    [("99.99", "10"), ("99.0", "25"), ("95.0", "100")],
                    {"target": Decimal("99.999")},
                )
            ],
            binding=False,
        )


@pytest.mark.parametrize(
    ("attained", "percent"),
    [
        ("99.995", "0"),  # missed the target but above every tier
        ("99.99", "0"),  # "below" is strict
        ("99.5", "10"),
        ("98.99", "25"),
        ("94.0", "100"),  # all three tiers match: the lowest "below" wins
    ],
)
def test_worst_matching_tier_wins_for_at_least_objectives(world_a, schedule, attained, percent):
    _revision, objectives = schedule
    with schema_context(TENANT_A.schema):
        row = result(world_a, objective=objectives["availability"], attained=attained)

        credit = _compute([row])

    assert credit.percent == Decimal(percent)
    assert credit.amount == Decimal("1000.00") * Decimal(percent) / 100
    [detail] = credit.objectives_json()
    assert detail["key"] == "availability" and detail["percent"] == percent
    assert (detail["tier"] is None) == (percent == "0")


def test_objective_tiers_shadow_revision_wide_tiers(world_a):
    with schema_context(TENANT_A.schema):
        _revision, objectives = revision_with_tiers(
            world_a,
            plans=[Plan("own_tiers", [("99.9", "10")]), Plan("no_tiers")],
            wide=[("99.5", "50")],
            binding=False,
        )
        own = result(world_a, objective=objectives["own_tiers"], attained="99.0")
        bare = result(world_a, objective=objectives["no_tiers"], attained="99.0")

        credit = _compute([own, bare])

    by_key = {item["key"]: item for item in credit.objectives_json()}
    assert by_key["own_tiers"]["percent"] == "10"  # the wide 50 % tier does not apply to it
    assert by_key["no_tiers"]["percent"] == "50"
    assert credit.uncapped_percent == credit.percent == Decimal("60")


def test_tiers_come_from_the_revision_defining_the_objective(world_a):
    """An inherited objective is credited by its own (ancestor's) revision, not by others' tiers."""
    with schema_context(TENANT_A.schema):
        revision_with_tiers(world_a, plans=[], wide=[("100", "90")], binding=False)
        row = result(world_a, attained="99.0")  # objective_x, defined by revision_x: 10 %

        credit = _compute([row])

    assert row.revision_id == world_a.revision_x.pk
    assert credit.percent == Decimal("10")
    assert credit.objectives_json()[0]["tier"] == world_a.tier_x.pk


@pytest.mark.parametrize(
    ("attained", "percent"),
    [("3000", "0"), ("3600", "0"), ("3601", "5"), ("7200", "5"), ("9000", "20")],
)
def test_at_most_objectives_earn_when_the_threshold_is_exceeded(world_a, attained, percent):
    """For "lte" objectives `below` is the threshold exceeded; the highest exceeded wins."""
    with schema_context(TENANT_A.schema):
        _revision, objectives = revision_with_tiers(
            world_a,
            plans=[
                Plan(
                    "turnaround",
                    [("3600", "5"), ("7200", "20")],
                    {
                        "metric": "turnaround_time",
                        "aggregate": "p95",
                        "comparison": "lte",
                        "target": Decimal("1800"),
                    },
                )
            ],
            binding=False,
        )
        row = result(world_a, objective=objectives["turnaround"], attained=attained)

        credit = _compute([row])

    assert credit.percent == Decimal(percent)


def test_sum_over_objectives_is_capped(world_a):
    with schema_context(TENANT_A.schema):
        _revision, objectives = revision_with_tiers(
            world_a,
            plans=[Plan(key, [("99.9", "40")]) for key in ("a", "b", "c")],
            binding=False,
        )
        rows = [result(world_a, objective=objective) for objective in objectives.values()]

        uncapped = _compute(rows)
        capped = _compute(rows, cap_percent=Decimal("25"))

    assert uncapped.uncapped_percent == Decimal("120")
    assert uncapped.percent == Decimal("100") and uncapped.amount == Decimal("1000.00")
    assert capped.uncapped_percent == Decimal("120")
    assert capped.percent == Decimal("25") and capped.amount == Decimal("250.00")
    assert capped.cap_percent == Decimal("25")


@pytest.mark.parametrize(
    ("fee", "currency", "expected"),
    [
        ("100.05", "EUR", "10.01"),  # 10.005: half-up, not banker's 10.00
        ("100.04", "EUR", "10.00"),  # 10.004
        ("12345", "JPY", "1235"),  # 1234.5, no minor unit
        ("12.345", "KWD", "1.235"),  # 1.2345, three decimals
        ("12.344", "KWD", "1.234"),
    ],
)
def test_amount_rounds_half_up_to_the_currency_minor_unit(world_a, fee, currency, expected):
    with schema_context(TENANT_A.schema):
        row = result(world_a, attained="99.0")  # tier_x: 10 %

        credit = _compute([row], fee_basis=Decimal(fee), currency=currency)

    assert isinstance(credit.amount, Decimal)
    assert str(credit.amount) == expected


def test_money_round_rejects_an_unknown_currency():
    with pytest.raises(ValueError, match="Unknown currency"):
        money_round(Decimal("1"), "XXX")


def test_fee_basis_spans_the_months_of_the_period():
    fee = Decimal("1000.00")
    assert fee_basis_for(monthly_fee=fee, period=parse_period("2026-10")) == Decimal("1000.00")
    assert fee_basis_for(monthly_fee=fee, period=parse_period("2026-Q4")) == Decimal("3000.00")


@pytest.mark.parametrize("status", ["met", "no_data", "pending"])
def test_only_missed_results_earn_credit(world_a, status):
    with schema_context(TENANT_A.schema):
        row = result(world_a, status=status, attained="50.0")  # far below tier_x's 99.9

        credit = _compute([row])

    assert credit.percent == Decimal("0") and credit.amount == Decimal("0.00")
    assert not credit.earns
    assert credit.objectives == []


def test_missed_without_attainment_earns_nothing(world_a):
    with schema_context(TENANT_A.schema):
        row = result(world_a, attained=None)

        credit = _compute([row])

    assert credit.percent == 0 and [item["tier"] for item in credit.objectives_json()] == [None]

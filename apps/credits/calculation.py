"""The credit rules, free of the database: which tier a missed objective earns, and how much.

Rules (docs/DESIGN.md §3, §6 ``credit-tiers/``; docs/decisions/0004):

- Only **missed** results earn credit; met, no-data and pending results never do.
- The tiers that apply to a missed result are those of the result's *defining*
  revision (an ancestor agreement's revision for an inherited objective) that
  are attached to the result's objective; when that objective has none, the
  revision-wide tiers (``objective`` null) of the same revision.
- A tier matches when the attainment lies on the wrong side of its threshold.
  The contract field is called ``below``: for an "at least" objective
  (comparison ``gte``, e.g. availability 99.9 %) a tier matches when
  ``attained < below``. For an "at most" objective (comparison ``lte``, e.g.
  turnaround seconds or latency) the same field is the threshold that is
  *exceeded*: the tier matches when ``attained > below``.
- Among matching tiers the worst attainment band wins: the lowest ``below`` for
  ``gte``, the highest for ``lte``. Its ``percent`` is the objective's credit.
- The objectives' percentages are summed and capped at ``cap_percent`` (the
  ``credit_cap_percent`` of the agreement's revision in force).
- ``amount = fee_basis × percent / 100``, rounded half-up to the currency's
  minor unit; ``fee_basis = monthly fee × months in the period`` (1 for
  ``YYYY-MM``, 3 for ``YYYY-Qn``). Decimal throughout, never float.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from apps.calendars.periods import Period
from apps.compliance.models import ResultStatus
from apps.core.currencies import MINOR_UNITS
from apps.core.money import format_money, format_percent, money_round, percent_of
from apps.revisions.models import Comparison

ZERO = Decimal("0")
MISSED = ResultStatus.MISSED
AT_MOST = Comparison.LTE


class TierLike(Protocol):
    """What the rules read of a CreditTier (a model instance or any look-alike)."""

    pk: Any
    objective_id: int | None
    below: Decimal
    percent: Decimal


class ResultLike(Protocol):
    """What the rules read of a ComplianceResult."""

    pk: Any
    objective_id: int
    revision_id: int
    key: str
    metric: str
    comparison: str
    target: Decimal
    attained: Decimal | None
    status: str


# --- money ------------------------------------------------------------------


def cap_amount(*, fee_basis: Decimal, cap_percent: Decimal, currency: str) -> Decimal:
    """The most a period's credit can be: ``fee_basis × cap_percent / 100``, rounded."""
    return percent_of(fee_basis, cap_percent, currency)


def settled_amount(
    *, amount: Decimal, fee_basis: Decimal, cap_percent: Decimal, currency: str
) -> Decimal:
    """An amount agreed in a dispute: in the currency's minor unit, from 0 up to the cap.

    ValueError (with a message for the user) otherwise.
    """
    if amount != money_round(amount, currency):
        raise ValueError(f"{currency} has {MINOR_UNITS[currency]} decimal places.")
    ceiling = cap_amount(fee_basis=fee_basis, cap_percent=cap_percent, currency=currency)
    if not ZERO <= amount <= ceiling:
        raise ValueError(f"The amount must lie between 0 and the cap of {ceiling} {currency}.")
    return money_round(amount, currency)


def fee_basis_for(*, monthly_fee: Decimal, period: Period) -> Decimal:
    """Monthly fee × the number of months the period spans."""
    return monthly_fee * period.months


# --- tiers --------------------------------------------------------------------


def tier_matches(*, tier: TierLike, attained: Decimal, comparison: str) -> bool:
    """Is ``attained`` on the wrong side of the tier's threshold?

    ``gte`` objectives ("at least"): attained below ``below``.
    ``lte`` objectives ("at most"): attained above ``below`` (the threshold exceeded).
    """
    if comparison == AT_MOST:
        return attained > tier.below
    return attained < tier.below


def applicable_tiers(
    *, result: ResultLike, tiers_by_revision: Mapping[int, Sequence[TierLike]]
) -> list[TierLike]:
    """The objective's own tiers in its defining revision, else that revision's wide tiers."""
    tiers = tiers_by_revision.get(result.revision_id, ())
    own = [tier for tier in tiers if tier.objective_id == result.objective_id]
    if own:
        return own
    return [tier for tier in tiers if tier.objective_id is None]


def worst_matching_tier(
    *, tiers: Iterable[TierLike], attained: Decimal, comparison: str
) -> TierLike | None:
    """Among the matching tiers, the worst band: lowest ``below`` (gte) or highest (lte)."""
    matching = [
        tier for tier in tiers if tier_matches(tier=tier, attained=attained, comparison=comparison)
    ]
    if not matching:
        return None
    if comparison == AT_MOST:
        return max(matching, key=lambda tier: tier.below)
    return min(matching, key=lambda tier: tier.below)


# --- the computation ----------------------------------------------------------


def _text(value: Decimal | None) -> str | None:
    """A Decimal for JSON: exact, without exponent notation or trailing zeros."""
    if value is None:
        return None
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class ObjectiveCredit:
    """What one missed objective earned, and which tier decided it."""

    result_id: Any
    objective_id: int
    revision_id: int
    key: str
    metric: str
    comparison: str
    target: Decimal
    attained: Decimal | None
    tier_id: Any
    below: Decimal | None
    percent: Decimal

    def as_json(self) -> dict[str, Any]:
        """The entry stored in ``ServiceCredit.objectives`` (decimals as strings)."""
        return {
            "result": self.result_id,
            "objective": self.objective_id,
            "revision": self.revision_id,
            "key": self.key,
            "metric": self.metric,
            "comparison": self.comparison,
            "target": _text(self.target),
            "attained": _text(self.attained),
            "tier": self.tier_id,
            "below": _text(self.below),
            "percent": _text(self.percent),
        }


@dataclass(frozen=True)
class CreditComputation:
    """The figures of a credit. ``objectives`` lists every missed objective, earning or not."""

    percent: Decimal
    uncapped_percent: Decimal
    cap_percent: Decimal
    fee_basis: Decimal
    amount: Decimal
    currency: str
    objectives: list[ObjectiveCredit] = field(default_factory=list)

    @property
    def earns(self) -> bool:
        """A credit is owed only when it is worth something: a percentage above zero of a
        fee above zero. An agreement without a fee of its own (a corporate umbrella whose
        fees are charged under its customer agreements) owes nothing itself; its
        objectives earn credits where they are inherited, on those agreements' fees."""
        return self.percent > ZERO and self.amount > ZERO

    def objectives_json(self) -> list[dict[str, Any]]:
        return [objective.as_json() for objective in self.objectives]

    def describe(self) -> str:
        """E.g. "25 % (uncapped 35 %, cap 25 %) of 1000.00 EUR = 250.00 EUR"."""
        capped = ""
        if self.uncapped_percent != self.percent:
            capped = (
                f" (uncapped {format_percent(self.uncapped_percent)},"
                f" cap {format_percent(self.cap_percent)})"
            )
        return (
            f"{format_percent(self.percent)}{capped} of"
            f" {format_money(self.fee_basis, self.currency)}"
            f" = {format_money(self.amount, self.currency)}"
        )


def objective_credit(
    *, result: ResultLike, tiers_by_revision: Mapping[int, Sequence[TierLike]]
) -> ObjectiveCredit:
    """The credit one missed result earns (0 % when no tier matches or nothing was attained)."""
    tier = None
    if result.attained is not None:
        tier = worst_matching_tier(
            tiers=applicable_tiers(result=result, tiers_by_revision=tiers_by_revision),
            attained=result.attained,
            comparison=result.comparison,
        )
    return ObjectiveCredit(
        result_id=result.pk,
        objective_id=result.objective_id,
        revision_id=result.revision_id,
        key=result.key,
        metric=result.metric,
        comparison=result.comparison,
        target=result.target,
        attained=result.attained,
        tier_id=tier.pk if tier is not None else None,
        below=tier.below if tier is not None else None,
        percent=tier.percent if tier is not None else ZERO,
    )


def credit_for_results(
    *,
    results: Sequence[ResultLike],
    tiers_by_revision: Mapping[int, Sequence[TierLike]],
    cap_percent: Decimal,
    fee_basis: Decimal,
    currency: str,
) -> CreditComputation:
    """Apply the credit rules to the results of one agreement × period.

    ``tiers_by_revision`` maps a revision id to all of that revision's tiers
    (objective-specific and revision-wide).
    """
    missed = sorted(
        (result for result in results if result.status == MISSED),
        key=lambda result: result.key,
    )
    objectives = [
        objective_credit(result=result, tiers_by_revision=tiers_by_revision) for result in missed
    ]
    uncapped = sum((objective.percent for objective in objectives), ZERO)
    percent = min(uncapped, cap_percent)
    amount = percent_of(fee_basis, percent, currency)
    return CreditComputation(
        percent=percent,
        uncapped_percent=uncapped,
        cap_percent=cap_percent,
        fee_basis=fee_basis,
        amount=amount,
        currency=currency,
        objectives=objectives,
    )

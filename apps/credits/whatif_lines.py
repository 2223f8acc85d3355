"""The figures of a what-if (apps.credits.whatif): per period and objective, what the
revision would have judged and credited beside what actually was; texts for people in
the active language (apps.revisions.units, apps.core.money)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from apps.agreements.models import Agreement
from apps.calendars.periods import Period
from apps.core.money import format_money_local, format_percent
from apps.credits.calculation import ZERO
from apps.revisions.models import Comparison, Revision
from apps.revisions.selectors import EffectiveObjective
from apps.revisions.units import format_value


@dataclass(frozen=True)
class Judged:
    """One objective in one period: how it was (or would have been) judged and credited."""

    status: str
    attained: Decimal | None
    target: Decimal
    comparison: str
    margin: Decimal | None
    data_points: int
    percent: Decimal  # of the fee basis this objective earns, before the period's cap
    amount: Decimal
    currency: str
    calendar: str
    metric: str = ""
    sample_metric: str | None = None

    # For people, in the active language (apps.revisions.units, apps.core.money).
    @property
    def attained_text(self) -> str:
        return format_value(self.attained, self.metric, self.sample_metric)

    @property
    def target_text(self) -> str:
        sign = "≥" if self.comparison == Comparison.GTE else "≤"
        return f"{sign} {format_value(self.target, self.metric, self.sample_metric)}"

    @property
    def amount_text(self) -> str:
        return format_money_local(self.amount, self.currency)

    @property
    def percent_text(self) -> str:
        return format_percent(self.percent)


@dataclass(frozen=True)
class ObjectiveLine:
    key: str
    name: str
    metric: str
    what_if: Judged | None  # None: the revision has no such objective (any more)
    actual: Judged | None  # None: never judged

    @property
    def changed(self) -> bool:
        """Would the status, the attained value or the credit have been different?"""
        if self.what_if is None or self.actual is None:
            return True
        mine, theirs = self.what_if, self.actual
        return (mine.status, mine.attained, mine.amount) != (
            theirs.status,
            theirs.attained,
            theirs.amount,
        )


@dataclass(frozen=True)
class Credit:
    percent: Decimal
    amount: Decimal
    currency: str
    status: str = ""  # the ledger's status (actual credits only)

    @property
    def amount_text(self) -> str:
        return format_money_local(self.amount, self.currency)

    @property
    def percent_text(self) -> str:
        return format_percent(self.percent)


@dataclass(frozen=True)
class PeriodLine:
    period: Period
    objectives: list[ObjectiveLine]
    what_if: Credit
    actual: Credit | None  # None: no credit in the ledger

    @property
    def label(self) -> str:
        return self.period.label

    @property
    def difference(self) -> Decimal | None:
        """What-if minus actual, where both are in the same currency."""
        actual = self.actual.amount if self.actual is not None else ZERO
        if self.actual is not None and self.actual.currency != self.what_if.currency:
            return None
        return self.what_if.amount - actual

    @property
    def changed(self) -> bool:
        return self.difference != ZERO or any(line.changed for line in self.objectives)

    @property
    def difference_text(self) -> str:
        difference = self.difference
        return "–" if difference is None else format_money_local(difference, self.what_if.currency)


@dataclass(frozen=True)
class Total:
    currency: str
    what_if: Decimal
    actual: Decimal

    @property
    def difference(self) -> Decimal:
        return self.what_if - self.actual

    @property
    def what_if_text(self) -> str:
        return format_money_local(self.what_if, self.currency)

    @property
    def actual_text(self) -> str:
        return format_money_local(self.actual, self.currency)

    @property
    def difference_text(self) -> str:
        return format_money_local(self.difference, self.currency)


@dataclass
class WhatIf:
    revision: Revision
    agreement: Agreement
    first: Period
    last: Period
    now: datetime
    objectives: list[EffectiveObjective]  # as if in force, with their calendars
    periods: list[PeriodLine] = field(default_factory=list)
    totals: list[Total] = field(default_factory=list)
    seconds: float = 0.0

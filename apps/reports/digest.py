"""What a report e-mail adds to the period report: the verdict at a glance, how much of
each objective's allowance the period used (the chart), and the last periods' record.

- **Allowance used**: the share of what the target allows that the period used up —
  for "≥ 99.9 %" the 0.1 % of shortfall (attained 99.95 % used half of it), for
  "≤ 250 ms" the 250 ms (229.5 ms used 92 %). Up to 100 % the objective is met; above,
  missed. A bar is drawn only where the share means something (percentages below
  100 % and upper limits); other objectives show their figure alone.
- **Record**: the status of each objective in the periods before, oldest first, read
  in one query per agreement.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.compliance.models import ComplianceResult, ResultStatus
from apps.core.money import format_money_local
from apps.reports.periods import ObjectiveLine, PeriodReport
from apps.revisions.units import format_number

RECORD_PERIODS = 6  # the reported period and the five before it
HUNDRED = Decimal(100)
# E-mail colours per status (the portal's palette, as inline styles).
COLOURS = {
    ResultStatus.MET: "#2a6e2f",
    ResultStatus.MISSED: "#b3261e",
    ResultStatus.PENDING: "#b26a00",
    ResultStatus.NO_DATA: "#9aa5b1",
}
MARKS = {  # the plain-text record
    ResultStatus.MET: "+",
    ResultStatus.MISSED: "x",
    ResultStatus.PENDING: "~",
    ResultStatus.NO_DATA: ".",
}


def allowance_used(line: ObjectiveLine) -> Decimal | None:
    """The share (percent) of the target's allowance the period used, or None."""
    result = line.result
    if result.attained is None or result.status == ResultStatus.NO_DATA:
        return None
    attained, target = Decimal(result.attained), Decimal(result.target)
    if result.comparison == "gte" and line.unit == "%" and target < HUNDRED:
        used = (HUNDRED - attained) / (HUNDRED - target) * HUNDRED
    elif result.comparison == "lte" and target > 0:
        used = attained / target * HUNDRED
    else:
        return None
    return max(used, Decimal(0)).quantize(Decimal(1))


@dataclass(frozen=True)
class Mark:
    """One period of an objective's record."""

    label: str  # 2026-09
    short: str  # Sep
    status: str  # a ResultStatus value, "" when there was no result

    @property
    def colour(self) -> str:
        return COLOURS.get(ResultStatus(self.status), "#dde3ea") if self.status else "#eceff3"

    @property
    def text(self) -> str:
        return MARKS.get(ResultStatus(self.status), " ") if self.status else " "


@dataclass(frozen=True)
class Row:
    """One objective of a report as the e-mail shows it."""

    line: ObjectiveLine
    used: Decimal | None
    record: list[Mark]

    @property
    def bar(self) -> int:
        """The bar's filled width in percent (0-100)."""
        return int(min(self.used or 0, HUNDRED))

    @property
    def over(self) -> bool:
        return self.used is not None and self.used > HUNDRED

    @property
    def times(self) -> str:
        """How many times the allowance was used, when over it: "7.3"."""
        return format_number((self.used or 0) / HUNDRED, 1)

    @property
    def colour(self) -> str:
        status = self.line.result.status
        if status == ResultStatus.PENDING and self.over:
            return COLOURS[ResultStatus.MISSED]
        return COLOURS.get(ResultStatus(status), COLOURS[ResultStatus.NO_DATA])

    @property
    def record_text(self) -> str:
        return "".join(mark.text for mark in self.record)


@dataclass
class Digest:
    """The verdict of one report, or of all reports of one e-mail added up."""

    statuses: Counter[str] = field(default_factory=Counter)
    credits: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount

    def add(self, other: Digest) -> None:
        self.statuses.update(other.statuses)
        for currency, amount in other.credits.items():
            self.credits[currency] = self.credits.get(currency, Decimal(0)) + amount

    @property
    def objectives(self) -> int:
        return sum(self.statuses.values())

    @property
    def met(self) -> int:
        return self.statuses[ResultStatus.MET]

    @property
    def missed(self) -> int:
        return self.statuses[ResultStatus.MISSED]

    @property
    def pending(self) -> int:
        return self.statuses[ResultStatus.PENDING]

    @property
    def no_data(self) -> int:
        return self.statuses[ResultStatus.NO_DATA]

    @property
    def verdict(self) -> str:
        return verdict(self)

    @property
    def credit_text(self) -> str:
        credits = sorted(self.credits.items())
        return ", ".join(format_money_local(amount, currency) for currency, amount in credits)


def verdict(digest: Digest) -> str:
    """The verdict in one sentence, in the active language: "The objective was met.",
    "Both objectives met.", "All 3 objectives met.", "1 of 3 objectives met, 2 missed."
    (plurals by ngettext; one and two objectives in words of their own)."""
    n = digest.objectives
    if not n:
        return _("No objective was evaluated for this period.")
    if not digest.missed and not digest.pending:
        if not digest.no_data:
            if n == 1:
                return _("The objective was met.")
            if n == 2:
                return _("Both objectives met.")
            return ngettext("All %(n)s objective met.", "All %(n)s objectives met.", n) % {"n": n}
        if not digest.met:
            if n == 1:
                return _("There was no data for the objective.")
            if n == 2:
                return _("There was no data for either objective.")
            return ngettext(
                "There was no data for any of the %(n)s objective.",
                "There was no data for any of the %(n)s objectives.",
                n,
            ) % {"n": n}
        return ngettext(
            "%(n)s objective met, %(none)s without data.",
            "%(n)s objectives met, %(none)s without data.",
            digest.met,
        ) % {"n": digest.met, "none": digest.no_data}
    if n == 1:
        if digest.missed:
            return _("The objective was missed.")
        return _("The objective is still being measured: its period is running.")
    parts = [
        ngettext("%(met)s of %(n)s objective met", "%(met)s of %(n)s objectives met", n)
        % {"met": digest.met, "n": n}
    ]
    if digest.missed:
        parts.append(ngettext("%(n)s missed", "%(n)s missed", digest.missed) % {"n": digest.missed})
    if digest.pending:
        parts.append(
            ngettext("%(n)s still running", "%(n)s still running", digest.pending)
            % {"n": digest.pending}
        )
    if digest.no_data:
        parts.append(
            ngettext("%(n)s without data", "%(n)s without data", digest.no_data)
            % {"n": digest.no_data}
        )
    return ", ".join(parts) + "."


def report_digest(report: PeriodReport) -> Digest:
    digest = Digest(Counter(line.result.status for line in report.lines))
    if report.credit is not None and report.credit.amount:
        digest.credits[report.credit.currency] = Decimal(report.credit.amount)
    return digest


def report_rows(report: PeriodReport, periods: int = RECORD_PERIODS) -> list[Row]:
    """Each objective line with its allowance and record: one query."""
    labels = []
    period = report.period
    for _step in range(periods):
        labels.append(period)
        period = period.previous()
    labels.reverse()
    keys = [line.result.key for line in report.lines]
    found = {
        (key, label): status
        for key, label, status in ComplianceResult.objects.filter(
            agreement=report.agreement, key__in=keys, period__in=[p.label for p in labels]
        ).values_list("key", "period", "status")
    }
    short = "M" if report.period.kind == "month" else "Y"
    rows = []
    for line in report.lines:
        record = [
            Mark(
                p.label,
                date_format(p.first_day, short) if short == "M" else p.label[-2:],
                found.get((line.result.key, p.label), ""),
            )
            for p in labels
        ]
        rows.append(Row(line, allowance_used(line), record))
    return rows

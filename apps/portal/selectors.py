"""What the portal's overview and agreement pages show, read in a fixed number of queries.

Per agreement and objective: the last twelve months (quarters for quarterly
objectives) of results as cells and a chart, the current period's provisional
state (on track / at risk / no data yet), the last closed period, and a quarter
roll-up; the open credits with totals per currency; the revisions waiting for the
user's acceptance; reviews that are due.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

from django.db.models import QuerySet
from django.urls import reverse

from apps.agreements.models import Agreement, AgreementKind
from apps.calendars.periods import Period, period_containing
from apps.compliance.models import ComplianceResult, ResultStatus
from apps.core.access import User
from apps.credits.models import OPEN_STATUSES, ServiceCredit
from apps.parties.selectors import party_ids_managed_by
from apps.portal.wording import period_name
from apps.revisions.models import CreditTier, Objective, PeriodKind, Revision, RevisionStatus
from apps.revisions.terms import objective_terms
from apps.revisions.units import format_target, format_value, unit_of

MONTHS = 12
QUARTERS = 4
PERIOD_PLACEHOLDER = "2000-01"  # a valid label, replaced by each tile's own


@dataclass(frozen=True)
class Cell:
    """One period of one objective. The properties are computed once: a page reads each
    of them a few times for each of its hundreds of tiles."""

    period: str
    result: ComplianceResult | None
    sample_metric: str | None = None
    url_prefix: str = ""  # the agreement's period URL up to the period's label

    @cached_property
    def url(self) -> str:
        return f"{self.url_prefix}{self.period}/"

    @cached_property
    def status(self) -> str:
        if self.result is None:
            return "none"
        if self.result.status == ResultStatus.PENDING and self.at_risk:
            return "at_risk"
        return str(self.result.status)

    @property
    def at_risk(self) -> bool:
        """Still open and, so far, on the wrong side of the target."""
        result = self.result
        return bool(
            result is not None
            and result.status == ResultStatus.PENDING
            and result.margin is not None
            and result.margin < 0
        )

    @cached_property
    def text(self) -> str:
        if self.result is None or self.result.attained is None:
            return "–"
        return format_value(self.result.attained, self.result.metric, self.sample_metric)

    @cached_property
    def name(self) -> str:
        """ "Feb 2026", "Q3 2026"."""
        return period_name(self.period)

    @cached_property
    def short(self) -> str:
        """ "Feb ’26": the chart's axis."""
        return period_name(self.period, short=True)

    @property
    def final(self) -> bool:
        return bool(self.result is not None and self.result.final)


@dataclass(frozen=True)
class Quarter:
    label: str
    met: int
    judged: int  # met + missed months (pending and no-data months do not count)

    @property
    def name(self) -> str:
        return period_name(self.label)


@dataclass
class ObjectiveRow:
    key: str
    objective: Objective
    cells: list[Cell]

    @cached_property
    def name(self) -> str:
        return self.objective.name or objective_terms(self.objective)

    @cached_property
    def terms(self) -> str:
        return objective_terms(self.objective)

    @cached_property
    def target_text(self) -> str:
        return format_target(self.objective)

    @cached_property
    def unit(self) -> str:
        return unit_of(self.objective.metric, self.objective.sample_metric)

    @cached_property
    def current(self) -> Cell:
        return self.cells[-1]

    @cached_property
    def last_closed(self) -> Cell | None:
        closed = [c for c in self.cells[:-1] if c.result is not None]
        return closed[-1] if closed else None

    @cached_property
    def quarters(self) -> list[Quarter]:
        if self.objective.period == PeriodKind.QUARTER:
            return []
        found: dict[str, list[Cell]] = defaultdict(list)
        for cell in self.cells:
            year, month = cell.period.split("-")
            found[f"{year}-Q{(int(month) - 1) // 3 + 1}"].append(cell)
        return [
            Quarter(
                label,
                sum(1 for c in cells if c.result and c.result.status == ResultStatus.MET),
                sum(
                    1
                    for c in cells
                    if c.result and c.result.status in (ResultStatus.MET, ResultStatus.MISSED)
                ),
            )
            for label, cells in found.items()
        ]


@dataclass
class AgreementSummary:
    agreement: Agreement
    rows: list[ObjectiveRow] = field(default_factory=list)
    credits: list[ServiceCredit] = field(default_factory=list)
    has_credit_basis: bool = True

    @property
    def missed(self) -> int:
        return sum(
            1
            for row in self.rows
            for cell in row.cells
            if cell.result is not None and cell.result.status == ResultStatus.MISSED
        )

    @property
    def at_risk(self) -> int:
        return sum(1 for row in self.rows if row.current.at_risk)


@dataclass
class Overview:
    summaries: list[AgreementSummary]
    months: list[str]
    quarters: list[str]
    awaiting: list[Revision]
    reviews_due: list[Agreement]
    open_credit_totals: dict[str, Decimal]


def recent_periods(today: date, kind: str, count: int) -> list[Period]:
    current = period_containing(today, kind)
    periods = [current]
    for _ in range(count - 1):
        periods.insert(0, periods[0].previous())
    return periods


def revisions_awaiting(user: User, agreements: list[Agreement]) -> list[Revision]:
    """Approved revisions of these agreements that this user may (and must) accept."""
    managed = party_ids_managed_by(user)
    candidates = [a.pk for a in agreements if a.customer_id in managed and a.requires_acceptance]
    return list(
        Revision.objects.filter(agreement_id__in=candidates, status=RevisionStatus.APPROVED)
        .select_related("agreement", "approved_by")
        .order_by("agreement__reference", "number")
    )


def credit_basis_of(agreements: list[Agreement]) -> set[int]:
    """Agreements whose revisions carry credit tiers and whose fee is above zero."""
    with_tiers = set(
        CreditTier.objects.filter(revision__agreement__in=[a.pk for a in agreements])
        .values_list("revision__agreement_id", flat=True)
        .distinct()
    )
    return {a.pk for a in agreements if a.pk in with_tiers and a.monthly_fee > 0}


def overview(
    user: User, agreements: QuerySet[Agreement] | list[Agreement], today: date
) -> Overview:
    """The overview of ``agreements`` (already scoped to the user) on ``today``."""
    agreements = list(agreements)
    months = [p.label for p in recent_periods(today, "month", MONTHS)]
    quarters = [p.label for p in recent_periods(today, "quarter", QUARTERS)]
    results = (
        ComplianceResult.objects.filter(
            agreement__in=[a.pk for a in agreements], period__in=months + quarters
        )
        .select_related("objective")
        .order_by("period")
    )
    by_agreement: dict[int, dict[str, dict[str, ComplianceResult]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for result in results:
        by_agreement[result.agreement_id][result.key][result.period] = result
    credits: dict[int, list[ServiceCredit]] = defaultdict(list)
    for credit in ServiceCredit.objects.filter(
        agreement__in=[a.pk for a in agreements], status__in=OPEN_STATUSES
    ).order_by("-period"):
        credits[credit.agreement_id].append(credit)
    basis = credit_basis_of(agreements)
    summaries = []
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for agreement in agreements:
        summary = AgreementSummary(
            agreement,
            credits=credits[agreement.pk],
            has_credit_basis=agreement.pk in basis or agreement.kind != AgreementKind.INTERNAL,
        )
        # One reverse() per agreement, not one per tile.
        prefix = reverse("portal:period", args=[agreement.pk, PERIOD_PLACEHOLDER])
        prefix = prefix.removesuffix(f"{PERIOD_PLACEHOLDER}/")
        for key, cells in sorted(by_agreement[agreement.pk].items()):
            latest = cells[max(cells, key=lambda label: (cells[label].period_start, label))]
            objective = latest.objective
            labels = quarters if objective.period == PeriodKind.QUARTER else months
            summary.rows.append(
                ObjectiveRow(
                    key,
                    objective,
                    [
                        Cell(label, cells.get(label), objective.sample_metric, prefix)
                        for label in labels
                    ],
                )
            )
        for credit in summary.credits:
            totals[credit.currency] += credit.amount
        summaries.append(summary)
    return Overview(
        summaries,
        months,
        quarters,
        revisions_awaiting(user, agreements),
        [a for a in agreements if a.review_due],
        dict(sorted(totals.items())),
    )

"""The report of one agreement × period: what the portal's month page, the PDF, the CSV
and the e-mailed report all show, read in a fixed number of queries.

- per objective in force: attained vs target with units, met / missed / pending /
  no data, provisional (the period is still open or in its grace window) or final (closed),
  the revision that defines it;
- the tickets that breached a response/resolution objective, worst first, with their
  clock time against the threshold (apps.compliance.breaches);
- the outages in scope, counted or not, with the reason when not;
- the adjustments made after the period was closed, and the period's credit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.agreements.models import Agreement
from apps.calendars.periods import Period
from apps.compliance.breaches import TicketBreach, period_breaches
from apps.compliance.evaluation import plan_jobs
from apps.compliance.models import ComplianceAdjustment, ComplianceResult, ResultStatus
from apps.credits.explain import no_credit_reason
from apps.credits.models import CreditEvent, ServiceCredit
from apps.measurements.models import Outage, OutageCause, OutageKind, Ticket, TicketPause
from apps.reports.wording import data_basis, objective_terms, objective_title
from apps.revisions.models import Metric, Objective
from apps.revisions.units import format_target, format_value, unit_of


@dataclass(frozen=True)
class ObjectiveLine:
    result: ComplianceResult
    objective: Objective

    @property
    def unit(self) -> str:
        return unit_of(self.result.metric, self.objective.sample_metric)

    @property
    def title(self) -> str:
        """The objective's name, or what it measures (never its key)."""
        return objective_title(self.objective)

    @property
    def terms(self) -> str:
        """What it promises in words: "Resolution within 4 h 00 min for ≥ 97 % of …"."""
        return objective_terms(self.objective)

    @property
    def basis_text(self) -> str:
        """What the result is based on: "no outages counted", "35 tickets opened"."""
        return data_basis(self.result.metric, self.result.data_points)

    @property
    def attained_text(self) -> str:
        return format_value(self.result.attained, self.result.metric, self.objective.sample_metric)

    @property
    def target_text(self) -> str:
        return format_target(self.objective)

    @property
    def provisional(self) -> bool:
        return self.result.status == ResultStatus.PENDING


@dataclass(frozen=True)
class OutageLine:
    outage: Outage
    counted: bool
    reason: str  # why it does not count; "" when it does
    keys: tuple[str, ...]  # the availability objectives whose scope includes it

    @property
    def title(self) -> str:
        """What the outage was: its description, else its kind (its id is a reference)."""
        if self.outage.description:
            return self.outage.description
        if self.outage.kind == OutageKind.PLANNED:
            return str(OutageKind.PLANNED.label)
        return _("Unplanned outage")


@dataclass
class PeriodReport:
    agreement: Agreement
    period: Period
    now: datetime
    lines: list[ObjectiveLine]
    breaches: list[TicketBreach]
    outages: list[OutageLine]
    adjustments: list[ComplianceAdjustment]
    credit: ServiceCredit | None
    tickets: dict[int, Ticket] = field(default_factory=dict)  # of the breaches shown

    @property
    def is_open(self) -> bool:
        return any(line.result.period_end > self.now for line in self.lines)

    @property
    def is_final(self) -> bool:
        return bool(self.lines) and all(line.result.final for line in self.lines)

    @property
    def no_credit(self) -> str:
        """Why there is no credit, when one could be expected (an objective missed)."""
        if self.credit is not None:
            return ""
        return no_credit_reason(
            monthly_fee=self.agreement.monthly_fee, missed=len(self.missed), ended=not self.is_open
        )

    @property
    def missed(self) -> list[ObjectiveLine]:
        return [line for line in self.lines if line.result.status == ResultStatus.MISSED]

    @cached_property
    def objective_names(self) -> dict[str, str]:
        """Each objective's key → the name a reader sees (breaches and adjustments name
        their objective by key)."""
        return {line.result.key: line.title for line in self.lines}


def _outage_reason(outage: Outage) -> str:
    if outage.excluded:
        return _("excluded by the provider: %(reason)s") % {"reason": outage.exclusion_reason}
    if outage.kind == OutageKind.PLANNED:
        return _("planned maintenance")
    if outage.cause == OutageCause.CUSTOMER:
        return _("caused by the customer")
    if outage.cause == OutageCause.THIRD_PARTY:
        return _("caused by a third party")
    return ""


def _outages(agreement: Agreement, period: Period, now: datetime) -> list[OutageLine]:
    jobs = [
        j for j in plan_jobs([agreement], period, now) if j.objective.metric == Metric.AVAILABILITY
    ]
    if not jobs:
        return []
    start = min(j.scope.start for j in jobs)
    end = max(j.scope.end for j in jobs)
    lo, hi = (datetime.fromtimestamp(x, tz=UTC) for x in (start, end))
    in_any = Q()
    for job in jobs:
        in_any |= job.scope.measurements.q()
    rows = (
        Outage.objects.filter(in_any, start__lt=hi)
        .filter(Q(end__isnull=True) | Q(end__gt=lo))
        .select_related("service")
        .order_by("start", "pk")
    )
    lines = []
    for outage in rows:
        keys = tuple(
            j.objective.key
            for j in jobs
            if j.scope.measurements.mask_one(outage.customer_id, outage.service_id)
        )
        reason = _outage_reason(outage)
        lines.append(OutageLine(outage, not reason, reason, keys))
    return lines


def period_report(
    agreement: Agreement, period: Period, *, now: datetime | None = None
) -> PeriodReport:
    """Everything the period's report shows (breaching tickets: ids only; see
    ``with_tickets`` for the rows of the ones a page shows)."""
    now = now or timezone.now()
    results = list(
        ComplianceResult.objects.filter(agreement=agreement, period=period.label)
        .select_related("objective__calendar", "revision")
        .order_by("key")
    )
    adjustments = list(
        ComplianceAdjustment.objects.filter(result__in=results)
        .select_related("result", "created_by")
        .order_by("-created_at")
    )
    credit = (
        ServiceCredit.objects.filter(agreement=agreement, period=period.label)
        .prefetch_related(Prefetch("events", CreditEvent.objects.select_related("by")))
        .first()
    )
    return PeriodReport(
        agreement=agreement,
        period=period,
        now=now,
        lines=[ObjectiveLine(result, result.objective) for result in results],
        breaches=period_breaches(agreement, period, now=now),
        outages=_outages(agreement, period, now),
        adjustments=adjustments,
        credit=credit,
    )


def with_tickets(report: PeriodReport, breaches: list[TicketBreach]) -> dict[int, Ticket]:
    """The Ticket rows (with their pauses) of ``breaches``: two queries."""
    ids = {breach.ticket_id for breach in breaches}
    tickets = Ticket.objects.filter(pk__in=ids).prefetch_related(
        Prefetch("pauses", TicketPause.objects.order_by("start"))
    )
    report.tickets.update({ticket.pk: ticket for ticket in tickets})
    return report.tickets

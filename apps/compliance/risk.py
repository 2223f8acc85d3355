"""At risk, during an open period: error budget left, and tickets about to breach.

For availability objectives: the downtime the target still allows in the
whole period minus the downtime so far (in clock seconds of the service
window). For response/resolution objectives: open tickets whose clock
deadline (threshold, pauses honoured) falls within the horizon, and those
already past it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import numpy as np
from django.utils import timezone

from apps.agreements.models import Agreement
from apps.calendars.periods import period_containing
from apps.calendars.specs import clock_table
from apps.compliance import attainment
from apps.compliance.evaluation import measure, plan_jobs, service_union
from apps.compliance.loaders import NULL, TicketData
from apps.measurements.models import Ticket
from apps.revisions.models import Metric


@dataclass
class ErrorBudget:
    key: str
    target: str
    period: str
    window_seconds: int  # working seconds of the whole period
    downtime_seconds: int  # so far
    allowed_seconds: int  # the most downtime the target allows in the period
    left_seconds: int  # may be negative: already missed


@dataclass
class TicketAtRisk:
    key: str
    ticket: str  # external id
    opened_at: datetime
    deadline: datetime
    seconds_left: int  # negative: already past


@dataclass
class AtRisk:
    agreement: int
    now: datetime
    horizon_seconds: int
    budgets: list[ErrorBudget] = field(default_factory=list)
    tickets: list[TicketAtRisk] = field(default_factory=list)


def at_risk(
    agreement: Agreement, *, now: datetime | None = None, horizon: timedelta = timedelta(hours=4)
) -> AtRisk:
    now = now or timezone.now()
    report = AtRisk(agreement.pk, now, int(horizon.total_seconds()))
    for kind in ("month", "quarter"):
        period = period_containing(timezone.localdate(now), kind)
        jobs = plan_jobs([agreement], period, now)
        availability = [j for j in jobs if j.objective.metric == Metric.AVAILABILITY]
        for job, measurement in zip(availability, measure(availability, now), strict=True):
            report.budgets.append(_budget(job, measurement, period.label))
        clocked = [
            j for j in jobs if j.objective.metric in (Metric.RESPONSE_TIME, Metric.RESOLUTION_TIME)
        ]
        if clocked:
            report.tickets += _tickets(clocked, now, horizon)
    report.tickets.sort(key=lambda item: item.deadline)
    return report


def _budget(job, measurement, period: str) -> ErrorBudget:
    scope = job.scope
    table = clock_table(
        scope.spec, datetime.fromtimestamp(scope.start, UTC), datetime.fromtimestamp(scope.end, UTC)
    )
    window = int(table.elapsed_many(np.array([scope.start]), np.array([scope.end]))[0])
    allowed = int(Fraction(window) * (100 - Fraction(job.objective.target)) / 100)
    downtime = int(measurement.detail.get("downtime_seconds", 0))
    return ErrorBudget(
        job.objective.key,
        str(job.objective.target.normalize()),
        period,
        window,
        downtime,
        allowed,
        allowed - downtime,
    )


def _tickets(jobs, now: datetime, horizon: timedelta) -> list[TicketAtRisk]:
    lo = datetime.fromtimestamp(min(j.scope.start for j in jobs), UTC)
    data = TicketData.load(
        lo=lo,
        hi=now,
        services=service_union(jobs),
        now=int(now.timestamp()),
        priorities=[j.scope.priority for j in jobs if j.scope.priority],
        open_only=True,
    )
    by_owner = np.argsort(data.pause_owner, kind="stable")
    owners = data.pause_owner[by_owner]
    pause_ends = np.where(data.pause_end == NULL, int(now.timestamp()), data.pause_end)
    limit = now + horizon
    candidates: list[tuple[str, int, datetime]] = []
    for job in jobs:
        until = "first_response" if job.objective.metric == Metric.RESPONSE_TIME else "resolved"
        rows = attainment.ticket_rows(data, job.scope)
        target = data.first_response if until == "first_response" else data.resolved
        table = clock_table(job.scope.spec, lo, limit)
        for row in rows[target[rows] == NULL]:  # still open for this objective: few rows
            opened = datetime.fromtimestamp(int(data.opened[row]), UTC)
            mine = by_owner[np.searchsorted(owners, row) : np.searchsorted(owners, row, "right")]
            pauses = [
                (datetime.fromtimestamp(int(a), UTC), datetime.fromtimestamp(int(b), UTC))
                for a, b in zip(data.pause_start[mine], pause_ends[mine], strict=True)
            ]
            deadline = table.deadline(opened, job.objective.threshold_seconds, pauses)
            if deadline <= limit:
                candidates.append((job.objective.key, int(row), deadline))
    names = dict(
        Ticket.objects.filter(pk__in=[int(data.ids[row]) for _, row, _ in candidates]).values_list(
            "pk", "external_id"
        )
    )
    return [
        TicketAtRisk(
            key,
            names[int(data.ids[row])],
            datetime.fromtimestamp(int(data.opened[row]), UTC),
            deadline,
            int((deadline - now).total_seconds()),
        )
        for key, row, deadline in candidates
    ]

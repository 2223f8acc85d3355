"""The tickets behind a missed response or resolution objective in one period.

Built from the evaluation's own jobs, loaders and clock (apps.compliance.evaluation),
so a ticket listed here is exactly one the evaluation counted as missed: the same
scope, the same calendar, the same pauses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from apps.agreements.models import Agreement
from apps.calendars.periods import Period
from apps.compliance import attainment
from apps.compliance.evaluation import Job, load_tickets, plan_jobs
from apps.compliance.loaders import NULL
from apps.revisions.models import Metric

CLOCKED = (Metric.RESPONSE_TIME, Metric.RESOLUTION_TIME)


@dataclass(frozen=True)
class TicketBreach:
    key: str  # the objective's key
    ticket_id: int
    opened_at: datetime
    clock_seconds: int  # clock time to the response/resolution, or until now while open
    threshold_seconds: int
    done: bool  # responded/resolved (late); False: still open and already past

    @property
    def over_seconds(self) -> int:
        return self.clock_seconds - self.threshold_seconds


def until_of(metric: str) -> str:
    """Which timestamp stops a clocked objective's clock."""
    return "first_response" if metric == Metric.RESPONSE_TIME else "resolved"


def clocked_jobs(agreement: Agreement, period: Period, now: datetime) -> list[Job]:
    return [j for j in plan_jobs([agreement], period, now) if j.objective.metric in CLOCKED]


def period_breaches(agreement: Agreement, period: Period, *, now: datetime) -> list[TicketBreach]:
    """Every ticket over its threshold, per objective, worst first: one ticket query."""
    jobs = clocked_jobs(agreement, period, now)
    if not jobs:
        return []
    data = load_tickets(jobs, now)
    found: list[TicketBreach] = []
    for job in jobs:
        objective = job.objective
        threshold = int(objective.threshold_seconds or 0)
        until = until_of(objective.metric)
        rows = attainment.ticket_rows(data, job.scope)
        durations = data.clock_durations(job.scope.spec, until)[rows]
        stops = (data.first_response if until == "first_response" else data.resolved)[rows]
        late = durations > threshold
        order = np.argsort(-durations[late], kind="stable")
        for row, seconds, stop in zip(
            rows[late][order], durations[late][order], stops[late][order], strict=True
        ):
            found.append(
                TicketBreach(
                    key=objective.key,
                    ticket_id=int(data.ids[row]),
                    opened_at=datetime.fromtimestamp(int(data.opened[row]), UTC),
                    clock_seconds=int(seconds),
                    threshold_seconds=threshold,
                    done=bool(stop != NULL),
                )
            )
    return found

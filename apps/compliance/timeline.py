"""One ticket's SLA clock, drawn: opened → responses → pauses → resolved, on the
calendar of each response/resolution objective that counts it, with where the clock
ran, stood still and breached. The figures are the evaluation's own (same jobs,
same clock, same pauses), so the timeline agrees with the monthly result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from apps.agreements.models import Agreement
from apps.calendars.periods import Period
from apps.calendars.segments import LATE, RUNNING, Run, clock_runs
from apps.calendars.specs import clock_table
from apps.compliance.breaches import clocked_jobs, until_of
from apps.compliance.evaluation import Job
from apps.measurements.models import Ticket


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass(frozen=True)
class Event:
    at: datetime
    what: str  # opened | first_response | pause_start | pause_end | resolved | closed | deadline
    note: str = ""


@dataclass
class ClockView:
    """The clock of one objective on one ticket."""

    key: str
    name: str
    metric: str
    threshold_seconds: int
    calendar: str
    timezone: str
    start: datetime
    end: datetime  # the response/resolution, or now while open
    stopped: bool  # the response/resolution happened
    deadline: datetime | None  # when the clock reached the threshold (None: never, so far)
    clock_seconds: int
    runs: list[Run] = field(default_factory=list)

    @property
    def breached(self) -> bool:
        return self.clock_seconds > self.threshold_seconds

    @property
    def paused_seconds(self) -> int:
        return sum(run.seconds for run in self.runs if run.kind == "paused")


@dataclass
class TicketTimeline:
    ticket: Ticket
    events: list[Event]
    clocks: list[ClockView]


def _in_scope(ticket: Ticket, job: Job) -> bool:
    scope = job.scope
    opened = int(ticket.opened_at.timestamp())
    if not scope.start <= opened < scope.end:
        return False
    if scope.priority and ticket.priority != scope.priority:
        return False
    return scope.measurements.mask_one(ticket.customer_id, ticket.service_id)


def _events(ticket: Ticket, pauses: list[tuple[datetime, datetime | None, str]]) -> list[Event]:
    events = [Event(ticket.opened_at, "opened")]
    if ticket.first_response_at:
        events.append(Event(ticket.first_response_at, "first_response"))
    for start, end, reason in pauses:
        events.append(Event(start, "pause_start", reason))
        if end is not None:
            events.append(Event(end, "pause_end", reason))
    if ticket.resolved_at:
        events.append(Event(ticket.resolved_at, "resolved"))
    if ticket.closed_at:
        events.append(Event(ticket.closed_at, "closed"))
    return events


def ticket_timeline(
    ticket: Ticket, agreement: Agreement, period: Period, *, now: datetime
) -> TicketTimeline | None:
    """The ticket's clocks under the agreement's response/resolution objectives of the
    period that count it; None when none does (the ticket is not the agreement's)."""
    jobs = [job for job in clocked_jobs(agreement, period, now) if _in_scope(ticket, job)]
    if not jobs:
        return None
    pause_rows = [(p.start, p.end, p.get_reason_display()) for p in ticket.pauses.all()]
    now_epoch = int(now.timestamp())
    opened = int(ticket.opened_at.timestamp())
    pauses = [
        (int(start.timestamp()), int(end.timestamp()) if end else now_epoch)
        for start, end, _ in pause_rows
    ]
    clocks = []
    for job in jobs:
        objective = job.objective
        until = until_of(objective.metric)
        stop = ticket.first_response_at if until == "first_response" else ticket.resolved_at
        end = max(int(stop.timestamp()) if stop else now_epoch, opened)
        threshold = int(objective.threshold_seconds or 0)
        table = clock_table(job.scope.spec, _at(opened), _at(end))
        deadline_at = table.deadline(
            _at(opened), threshold, [(_at(a), _at(b)) for a, b in pauses if b > a]
        )
        deadline = int(deadline_at.timestamp())
        runs = clock_runs(table, opened, end, pauses, deadline)
        clocks.append(
            ClockView(
                key=objective.key,
                name=objective.name or objective.describe(),
                metric=objective.metric,
                threshold_seconds=threshold,
                calendar=job.effective.calendar.name,
                timezone=job.scope.spec.timezone,
                start=ticket.opened_at,
                end=_at(end),
                stopped=stop is not None,
                deadline=deadline_at if deadline <= max(end, now_epoch) else None,
                clock_seconds=sum(r.seconds for r in runs if r.kind in (RUNNING, LATE)),
                runs=runs,
            )
        )
    return TicketTimeline(ticket, sorted(_events(ticket, pause_rows), key=lambda e: e.at), clocks)

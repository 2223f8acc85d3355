"""Compliance evaluation: every effective objective of every agreement, for one period.

Two steps: ``compute_period`` plans a job per effective objective, measures and
judges — results in memory, nothing written — and ``evaluate_period`` stores
what it computed. A what-if (apps.credits.whatif) runs the first step alone, so
the real evaluation and the what-if are the same code.

The work is done in a fixed number of queries whatever the volume of data:
tickets (+ pauses) and outages of the period are loaded once into numpy
arrays, clock durations are computed once per calendar for all tickets,
sample aggregates run in PostgreSQL, and results are written with one bulk
upsert. Results of a period whose credits were issued are final: a later
evaluation that finds a different answer records a ComplianceAdjustment
instead of rewriting them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from apps.agreements.models import Agreement
from apps.calendars.periods import Period
from apps.calendars.specs import calendar_spec
from apps.compliance import attainment
from apps.compliance.attainment import Measurement, Scope
from apps.compliance.loaders import OutageData, TicketData
from apps.compliance.models import ComplianceAdjustment, ComplianceResult, ResultStatus
from apps.compliance.signals import period_evaluated
from apps.measurements.scoping import agreement_reach
from apps.revisions.models import Comparison, Metric, Objective, Revision
from apps.revisions.selectors import EffectiveObjective, effective_objectives_many
from apps.tenants.selectors import tenant_timezone

TICKET_METRICS = {
    Metric.RESPONSE_TIME,
    Metric.RESOLUTION_TIME,
    Metric.FIRST_CONTACT_RESOLUTION,
    Metric.CLOSURE_RATE,
    Metric.TURNAROUND_TIME,
}


@dataclass
class Job:
    agreement: Agreement
    effective: EffectiveObjective
    scope: Scope

    @property
    def objective(self) -> Objective:
        return self.effective.objective


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def plan_jobs(
    agreements: Iterable[Agreement],
    period: Period,
    now: datetime,
    *,
    assume: Revision | None = None,
) -> list[Job]:
    """One job per effective objective (own and inherited) whose period kind matches, on
    the calendar resolved for it (objective → agreement → tenant default → 24×7).

    ``assume``: a revision to treat as in force for its agreement (a what-if).
    """
    default_tz = tenant_timezone()
    agreements = list(agreements)
    reach = agreement_reach(agreements)
    effective_by_agreement = effective_objectives_many(agreements, period.first_day, assume=assume)
    jobs: list[Job] = []
    for agreement in agreements:
        for effective in effective_by_agreement[agreement.pk]:
            objective = effective.objective
            if objective.period != period.kind:
                continue
            spec = calendar_spec(effective.calendar.calendar, default_tz)
            start, end = period.bounds(spec.timezone)
            measurements = reach[agreement.pk].scope(objective.service_id)
            services = measurements.services
            scope = Scope(
                measurements=measurements,
                services=None if services is None else np.array(sorted(services), np.int64),
                priority=objective.priority or None,
                start=_epoch(start),
                end=_epoch(end),
                spec=spec,
                now=_epoch(now),
            )
            jobs.append(Job(agreement, effective, scope))
    return jobs


def service_union(jobs: list[Job]) -> list[int] | None:
    """The services any of the jobs looks at (None: some job looks at all)."""
    if any(job.scope.services is None for job in jobs):
        return None
    return sorted(
        {int(s) for job in jobs if job.scope.services is not None for s in job.scope.services}
    )


def _window(jobs: list[Job]) -> tuple[datetime, datetime]:
    return (
        datetime.fromtimestamp(min(j.scope.start for j in jobs), UTC),
        datetime.fromtimestamp(max(j.scope.end for j in jobs), UTC),
    )


def load_tickets(jobs: list[Job], now: datetime) -> TicketData:
    """The tickets the jobs look at, in one query (plus one for their pauses)."""
    lo, hi = _window(jobs)
    return TicketData.load(
        lo=lo,
        hi=hi,
        services=service_union(jobs),
        now=_epoch(now),
        priorities=[j.scope.priority for j in jobs if j.scope.priority],
    )


def load_outages(jobs: list[Job]) -> OutageData:
    """The counted outages the jobs look at, in one query."""
    lo, hi = _window(jobs)
    return OutageData.load(lo=lo, hi=hi, services=service_union(jobs))


def measure(jobs: list[Job], now: datetime) -> list[Measurement]:
    """Attainment per job, loading each kind of data once for all jobs."""
    ticket_jobs = [j for j in jobs if j.objective.metric in TICKET_METRICS]
    outage_jobs = [j for j in jobs if j.objective.metric == Metric.AVAILABILITY]
    tickets = load_tickets(ticket_jobs, now) if ticket_jobs else None
    outages = load_outages(outage_jobs) if outage_jobs else None
    return [_measure_one(job, tickets, outages) for job in jobs]


def _measure_one(job: Job, tickets: TicketData | None, outages: OutageData | None) -> Measurement:
    """The objective's rules (Objective.clean) guarantee the terms each metric needs."""
    objective, scope = job.objective, job.scope
    if objective.metric == Metric.AVAILABILITY:
        assert outages is not None  # loaded for every availability job
        return attainment.availability(outages, scope)
    if objective.metric == Metric.SAMPLE:
        assert objective.sample_metric and objective.aggregate
        return attainment.sample_aggregate(
            scope, metric=objective.sample_metric, aggregate=objective.aggregate
        )
    assert tickets is not None  # loaded for every ticket job
    match objective.metric:
        case Metric.RESPONSE_TIME | Metric.RESOLUTION_TIME:
            assert objective.threshold_seconds is not None
            until = "first_response" if objective.metric == Metric.RESPONSE_TIME else "resolved"
            return attainment.within_threshold(
                tickets, scope, until=until, threshold=objective.threshold_seconds
            )
        case Metric.FIRST_CONTACT_RESOLUTION:
            return attainment.first_contact_resolution(tickets, scope)
        case Metric.CLOSURE_RATE:
            return attainment.closure_rate(tickets, scope)
        case Metric.TURNAROUND_TIME:
            assert objective.aggregate is not None
            return attainment.turnaround(tickets, scope, aggregate=objective.aggregate)
    raise ValueError(f"unknown metric {objective.metric}")  # pragma: no cover


def judge(objective: Objective, measurement: Measurement, period_over: bool) -> tuple[str, Any]:
    """Status and margin (headroom: positive when better than the target)."""
    if measurement.attained is None:
        status = ResultStatus.PENDING if measurement.pending else ResultStatus.NO_DATA
        return status, None
    target = Fraction(objective.target)
    attained = measurement.attained
    exact = Fraction(attained) if isinstance(attained, float) else attained
    margin = exact - target if objective.comparison == Comparison.GTE else target - exact
    if not period_over:
        return ResultStatus.PENDING, attainment.as_decimal(margin)
    return (ResultStatus.MET if margin >= 0 else ResultStatus.MISSED, attainment.as_decimal(margin))


@dataclass(frozen=True)
class Evaluation:
    results: list[ComplianceResult]
    adjustments: list[ComplianceAdjustment]


def compute_period(
    *,
    agreements: Iterable[Agreement],
    period: Period,
    now: datetime,
    assume: Revision | None = None,
) -> list[ComplianceResult]:
    """The results ``period`` has for ``agreements`` as of ``now``: unsaved, nothing written.

    ``assume``: a revision of any status to evaluate as if it were in force for its
    agreement (with what it inherits from the agreements above) — a what-if.
    """
    jobs = plan_jobs(agreements, period, now, assume=assume)
    measurements = measure(jobs, now) if jobs else []
    return [_result(job, m, period, now) for job, m in zip(jobs, measurements, strict=True)]


@transaction.atomic
def evaluate_period(
    *,
    agreements: Iterable[Agreement],
    period: Period,
    now: datetime | None = None,
    acting_user: Any = None,
) -> Evaluation:
    """Evaluate and store the results of ``period`` for ``agreements``. Idempotent.

    Sends ``apps.compliance.signals.period_evaluated`` when done (metrics time it).
    """
    started = time.perf_counter()
    now = now or timezone.now()
    agreements = list(agreements)
    computed = compute_period(agreements=agreements, period=period, now=now)
    results, adjustments = _store(agreements, period, computed, acting_user)
    period_evaluated.send(
        sender=Evaluation,
        agreements=len(agreements),
        period=period.label,
        results=len(computed),
        seconds=time.perf_counter() - started,
    )
    return Evaluation(results, adjustments)


def _store(
    agreements: list[Agreement],
    period: Period,
    computed: list[ComplianceResult],
    acting_user: Any,
) -> tuple[list[ComplianceResult], list[ComplianceAdjustment]]:
    """Upsert the computed results (final ones get adjustments instead) and drop the
    results of objectives no longer in force; returns the stored results of the period."""
    existing = {
        (r.agreement_id, r.key): r
        for r in ComplianceResult.objects.filter(
            agreement__in=[a.pk for a in agreements], period=period.label
        )
    }
    writable, adjustments = [], []
    for result in computed:
        old = existing.get((result.agreement_id, result.key))
        if old is not None and old.final:
            if (old.attained, old.status) != (result.attained, result.status):
                adjustments.append(_adjust(old, result, acting_user))
            continue
        writable.append(result)
    ComplianceResult.objects.bulk_create(
        writable,
        update_conflicts=True,
        unique_fields=["agreement", "key", "period"],
        update_fields=[
            "objective",
            "revision",
            "metric",
            "period_start",
            "period_end",
            "target",
            "comparison",
            "attained",
            "margin",
            "status",
            "data_points",
            "detail",
            "inherited",
            "computed_at",
        ],
    )
    keys = {(r.agreement_id, r.key) for r in computed}
    stale = [r.pk for k, r in existing.items() if k not in keys and not r.final]
    ComplianceResult.objects.filter(pk__in=stale).delete()  # objective no longer in force
    results = list(
        ComplianceResult.objects.filter(
            agreement__in=[a.pk for a in agreements], period=period.label
        ).select_related("objective")
    )
    return results, adjustments


def _result(job: Job, measurement: Measurement, period: Period, now: datetime) -> ComplianceResult:
    objective = job.objective
    period_over = _epoch(now) >= job.scope.end
    status, margin = judge(objective, measurement, period_over)
    return ComplianceResult(
        agreement=job.agreement,
        objective=objective,
        revision=job.effective.revision,
        key=objective.key,
        metric=objective.metric,
        period=period.label,
        period_start=datetime.fromtimestamp(job.scope.start, UTC),
        period_end=datetime.fromtimestamp(job.scope.end, UTC),
        target=objective.target,
        comparison=objective.comparison,
        attained=attainment.as_decimal(measurement.attained),
        margin=margin,
        status=status,
        data_points=measurement.data_points,
        detail={
            **measurement.detail,
            "pending": measurement.pending,
            "calendar": job.effective.calendar.calendar.name
            if job.effective.calendar.calendar
            else "24×7",
            "calendar_source": job.effective.calendar.source,
            "timezone": job.scope.spec.timezone,
            "source_agreement": job.effective.agreement.reference,
        },
        inherited=job.effective.inherited,
        computed_at=now,
    )


def _adjust(old: ComplianceResult, new: ComplianceResult, acting_user: Any) -> ComplianceAdjustment:
    user = acting_user if getattr(acting_user, "is_authenticated", False) else None
    already = ComplianceAdjustment.objects.filter(
        result=old, new_attained=new.attained, new_status=new.status
    ).first()
    if already:
        return already
    return ComplianceAdjustment.objects.create(
        result=old,
        old_attained=old.attained,
        new_attained=new.attained,
        old_status=old.status,
        new_status=new.status,
        created_by=user,
        reason="Re-evaluation after the period was closed (e.g. an exclusion or late data).",
    )

"""Attainment of each metric for one objective in one period (docs/DESIGN.md §3).

Every function gets the rows already narrowed to the objective's scope and
returns a Measurement: the attained value, whether the target is met judged
on exact numbers (a ratio is compared as a fraction, never a rounded float),
the number of data points and the figures behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import numpy as np
from django.db import connection

from apps.calendars.clock import CalendarSpec, merge_intervals
from apps.calendars.specs import clock_table
from apps.compliance.loaders import NULL, OutageData, TicketData
from apps.measurements.models import Sample
from apps.measurements.scoping import MeasurementScope

PERCENTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}


@dataclass
class Measurement:
    attained: Fraction | float | None  # None: nothing to judge (no data / all pending)
    data_points: int
    pending: int = 0
    detail: dict = field(default_factory=dict)


@dataclass
class Scope:
    """What one objective of one agreement looks at in one period.

    ``measurements`` is the scoping rule (apps.measurements.scoping); ``services``
    are its services as an array for slicing rows by service (None: all rows).
    """

    measurements: MeasurementScope
    services: np.ndarray | None
    priority: str | None
    start: int  # period bounds, epoch seconds, in the objective's timezone
    end: int
    spec: CalendarSpec
    now: int


def ticket_rows(data: TicketData, scope: Scope, *, by: str = "opened") -> np.ndarray:
    """Rows in scope whose ``by`` timestamp ("opened" | "closed") falls in the period."""
    rows = data.rows_for(scope.services)
    stamp = (data.opened if by == "opened" else data.closed)[rows]
    in_scope = scope.measurements.mask(data.customer[rows], data.service[rows])
    keep = (stamp >= scope.start) & (stamp < scope.end) & in_scope
    if scope.priority:
        keep &= data.priority[rows] == scope.priority
    return rows[keep]


def within_threshold(data: TicketData, scope: Scope, *, until: str, threshold: int) -> Measurement:
    """% of tickets opened in the period whose clock time to ``until`` is ≤ threshold.

    Open tickets already past the threshold count as missed; open ones within
    it are pending and left out of the ratio.
    """
    rows = ticket_rows(data, scope)
    durations = data.clock_durations(scope.spec, until)[rows]
    done = (data.first_response if until == "first_response" else data.resolved)[rows] != NULL
    within = durations <= threshold
    met = int(np.count_nonzero(within & done))
    missed = int(np.count_nonzero(~within))
    pending = int(np.count_nonzero(within & ~done))
    judged = met + missed
    detail = {"met": met, "missed": missed, "pending": pending, "threshold_seconds": threshold}
    if judged:
        detail["worst_clock_seconds"] = int(durations.max())
    attained = Fraction(100 * met, judged) if judged else None
    return Measurement(attained, int(rows.size), pending, detail)


def first_contact_resolution(data: TicketData, scope: Scope) -> Measurement:
    rows = ticket_rows(data, scope)
    resolved = rows[data.resolved[rows] != NULL]
    first = int(np.count_nonzero(data.contacts[resolved] <= 1))
    detail = {"resolved": int(resolved.size), "first_contact": first}
    attained = Fraction(100 * first, resolved.size) if resolved.size else None
    return Measurement(attained, int(resolved.size), int(rows.size - resolved.size), detail)


def closure_rate(data: TicketData, scope: Scope) -> Measurement:
    opened = ticket_rows(data, scope, by="opened").size
    closed = ticket_rows(data, scope, by="closed").size
    detail = {"opened": int(opened), "closed": int(closed)}
    attained = Fraction(100 * closed, opened) if opened else None
    return Measurement(attained, int(opened), 0, detail)


def _aggregate(values: np.ndarray, aggregate: str) -> float:
    if aggregate == "mean":
        return float(values.mean())
    # Linear interpolation between closest ranks = PostgreSQL's percentile_cont.
    return float(np.percentile(values, PERCENTILES[aggregate] * 100, method="linear"))


def turnaround(data: TicketData, scope: Scope, *, aggregate: str) -> Measurement:
    """Mean or percentile of clock seconds from receipt to completion (resolution)."""
    rows = ticket_rows(data, scope)
    completed = rows[data.resolved[rows] != NULL]
    durations = data.clock_durations(scope.spec, "resolved")[completed]
    if not durations.size:
        return Measurement(None, 0, int(rows.size))
    value = _aggregate(durations.astype(np.float64), aggregate)
    return Measurement(
        value,
        int(durations.size),
        int(rows.size - completed.size),
        {"aggregate": aggregate, "completed": int(durations.size)},
    )


def availability(outages: OutageData, scope: Scope) -> Measurement:
    """(window − downtime) / window × 100 over the working time of the service window.

    Downtime is the union of unplanned, provider-caused, non-excluded outages
    (loaded that way), clipped to the period and to now. An open period is
    judged on the time elapsed so far.
    """
    window_end = min(scope.end, scope.now)
    if window_end <= scope.start:
        return Measurement(None, 0, detail={"reason": "the period has not started"})
    lo = datetime.fromtimestamp(scope.start, UTC)
    table = clock_table(scope.spec, lo, datetime.fromtimestamp(scope.end, UTC))
    window = int(table.elapsed_many(np.array([scope.start]), np.array([window_end]))[0])
    if window == 0:
        return Measurement(None, 0, detail={"reason": "no working time in the service window"})
    rows = outages.rows_for(scope.services)
    rows = rows[scope.measurements.mask(outages.customer[rows], outages.service[rows])]
    starts = np.maximum(outages.start[rows], scope.start)
    ends = np.where(outages.end[rows] == NULL, scope.now, outages.end[rows])
    ends = np.minimum(ends, window_end)
    keep = ends > starts
    merged_starts, merged_ends = merge_intervals(starts[keep], ends[keep])
    downtime = int(table.elapsed_many(merged_starts, merged_ends).sum())
    detail = {
        "window_seconds": window,
        "downtime_seconds": downtime,
        "outages": int(np.count_nonzero(keep)),
    }
    return Measurement(
        Fraction(100 * (window - downtime), window), int(np.count_nonzero(keep)), 0, detail
    )


_SAMPLE_SQL = """
SELECT count(*), avg(value), min(value), max(value), sum(value),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY value),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY value),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY value),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY value)
FROM {table}
WHERE metric = %(metric)s AND at >= %(lo)s AND at < %(hi)s
  AND {scope}
"""
_SAMPLE_COLUMNS = ("count", "mean", "min", "max", "sum", "p50", "p90", "p95", "p99")


def sample_aggregate(scope: Scope, *, metric: str, aggregate: str) -> Measurement:
    """mean/min/max/sum/count/p50…p99 of a custom metric, aggregated in PostgreSQL."""
    where, params = scope.measurements.sql()
    params.update(
        metric=metric,
        lo=datetime.fromtimestamp(scope.start, UTC),
        hi=datetime.fromtimestamp(min(scope.end, scope.now), UTC),
    )
    with connection.cursor() as cursor:
        cursor.execute(_SAMPLE_SQL.format(table=Sample._meta.db_table, scope=where), params)
        values = dict(zip(_SAMPLE_COLUMNS, cursor.fetchone(), strict=True))
    count = int(values["count"])
    if not count:
        return Measurement(None, 0)
    value = float(count) if aggregate == "count" else float(values[aggregate])
    return Measurement(value, count, 0, {"aggregate": aggregate, "metric": metric})


def as_decimal(value: Fraction | float | None) -> Decimal | None:
    """The attained value as stored and shown: 4 decimal places."""
    if value is None:
        return None
    if isinstance(value, Fraction):
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001"))
    return Decimal(repr(value)).quantize(Decimal("0.0001"))

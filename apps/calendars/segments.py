"""Where the SLA clock ran and where it stood still between two instants.

The clock (apps.calendars.clock) answers "how many working seconds"; a timeline
needs "which ones": the runs of ``[start, end)`` in which the clock ran
(``running``, or ``late`` once past a deadline), stood still because the calendar
was closed (``closed``: nights, weekends, holidays) or was paused (``paused``:
waiting on the customer or a third party). The runs add up to ``end - start``
and the ``running`` and ``late`` ones to the clock time.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from apps.calendars.clock import WorkingTimeTable, merge_intervals

RUNNING, LATE, CLOSED, PAUSED = "running", "late", "closed", "paused"


@dataclass(frozen=True)
class Run:
    start: int  # epoch seconds
    end: int
    kind: str

    @property
    def seconds(self) -> int:
        return self.end - self.start


def _overlapping(starts: np.ndarray, ends: np.ndarray, lo: int, hi: int) -> list[tuple[int, int]]:
    first = int(np.searchsorted(ends, lo, side="right"))
    last = int(np.searchsorted(starts, hi, side="left"))
    found = []
    for a, b in zip(starts[first:last].tolist(), ends[first:last].tolist(), strict=True):
        a, b = max(a, lo), min(b, hi)
        if b > a:
            found.append((a, b))
    return found


def clock_runs(
    table: WorkingTimeTable,
    start: int,
    end: int,
    pauses: list[tuple[int, int]],
    deadline: int | None = None,
) -> list[Run]:
    """The runs of ``[start, end)`` in order, adjacent runs of one kind merged."""
    if end <= start:
        return []
    table = table.covering(start, end)
    working = _overlapping(table.starts, table.ends, start, end)
    pause_starts, pause_ends = merge_intervals(
        np.array([p[0] for p in pauses], np.int64), np.array([p[1] for p in pauses], np.int64)
    )
    paused = _overlapping(pause_starts, pause_ends, start, end)
    cuts = {start, end, *(x for run in working + paused for x in run)}
    if deadline is not None and start < deadline < end:
        cuts.add(deadline)
    edges = sorted(cuts)
    runs: list[Run] = []
    for a, b in pairwise(edges):
        if any(p <= a < q for p, q in paused):
            kind = PAUSED
        elif any(w <= a < v for w, v in working):
            kind = LATE if deadline is not None and a >= deadline else RUNNING
        else:
            kind = CLOSED
        if runs and runs[-1].kind == kind and runs[-1].end == a:
            runs[-1] = Run(runs[-1].start, b, kind)
        else:
            runs.append(Run(a, b, kind))
    return runs

"""The SLA clock: working time between instants under a business-hours calendar.

Definition
----------
An instant ``t`` *counts* iff the calendar is 24x7 (no working ranges; then every
instant counts, holidays included), or the local wall-clock time zoneinfo gives
for ``t`` lies on a non-holiday local date whose weekday has a range with
``start_minute * 60 <= seconds-of-day < end_minute * 60``. Clock time between
``a`` and ``b`` is the number of counting seconds in ``[a, b)`` minus those
covered by the union of the pauses (overlapping pauses are counted once).

DST rule
--------
The rule is the per-instant one above, applied to real elapsed seconds. Wall
times that do not exist (the spring-forward gap) never count: a Berlin range
01:00-04:00 on 2026-03-29 lasts 2 h. Wall times that happen twice (fall-back)
count both times: the same range on 2026-10-25 lasts 4 h. A 24x7 day therefore
lasts 23 h or 25 h on those dates.

Design
------
``WorkingTimeTable.build`` expands the calendar once for a span into sorted,
merged working intervals (int64 epoch seconds ``starts``/``ends``) and
``cum``, the working seconds before each interval. ``F(t)``, the working seconds
from the table start up to ``t``, is "find the interval at or before t" plus
arithmetic, so ``elapsed(a, b) = F(b) - F(a)``, scalar or vectorised. Finding the
interval is ``np.searchsorted``, or faster a bucket lookup: buckets of 2**k
seconds no wider than the smallest gap between interval starts, each remembering
the interval at its left edge, so one gather and one comparison suffice.
Pauses are merged per ticket and their working coverage (again via ``F``) is
subtracted. Deadlines invert ``F``. To map wall times to instants the table
splits time into UTC-offset periods (found by sampling zoneinfo every 6 hours and
bisecting to the second); inside a period wall time is ``t + offset``, so a wall
interval maps to one instant interval per period it meets: exactly the
per-instant rule.
Tables extend themselves (by building a wider one) when asked about instants
outside their span. ``table_for`` keeps an LRU cache of tables keyed by the
(hashable) spec; a changed calendar yields a new spec and so a new table.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

DAY = 86_400
PAD_DAYS = 3
SAMPLE_STEP = 6 * 3600  # assumes at most one UTC-offset change per 6 hours
ALL_TIME = (-(2**40), 2**40)  # the whole datetime range, in epoch seconds
MAX_DEADLINE_SEARCH = 200 * 366 * DAY
BUCKET_SHIFTS = (6, 20)  # bucket widths 64 s .. ~12 days, as powers of two
MAX_BUCKETS = 1 << 22
CACHE_SIZE = 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)

Pauses = Sequence[tuple[datetime, datetime]]
Ints = np.ndarray  # int64 arrays: epoch seconds, durations, indices


@dataclass(frozen=True)
class CalendarSpec:
    """A business-hours calendar; no ranges means 24x7 (and holidays are ignored)."""

    timezone: str
    ranges: tuple[tuple[int, int, int], ...] = ()  # (weekday 0=Mon, start_min, end_min)
    holidays: frozenset[date] = frozenset()

    @property
    def is_24x7(self) -> bool:
        return not self.ranges


def epoch(moment: datetime) -> int:
    """Whole epoch seconds (floored) of an aware datetime; naive ones raise ValueError."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: the SLA clock needs aware datetimes")
    return (moment - _EPOCH) // _SECOND


def _offset(zone: ZoneInfo, instant: int) -> int:
    offset = datetime.fromtimestamp(instant, zone).utcoffset()
    assert offset is not None  # an aware datetime from a ZoneInfo always has one
    return offset // _SECOND


@lru_cache(maxsize=512)
def _year_transitions(timezone: str, year: int) -> tuple[tuple[int, int], ...]:
    """(instant, offset from then on) for each UTC-offset change in the UTC year."""
    zone = ZoneInfo(timezone)
    first = epoch(datetime(year, 1, 1, tzinfo=UTC))
    last = epoch(datetime(year + 1, 1, 1, tzinfo=UTC))
    found: list[tuple[int, int]] = []
    before, previous = first, _offset(zone, first)
    for sample in range(first + SAMPLE_STEP, last + SAMPLE_STEP, SAMPLE_STEP):
        current = _offset(zone, sample)
        if current != previous:
            low, high = before, sample  # offset(low) == previous, offset(high) == current
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if _offset(zone, middle) == previous else (low, middle)
            found.append((high, current))
        before, previous = sample, current
    return tuple(found)


def _offset_periods(timezone: str, lo: int, hi: int) -> tuple[Ints, Ints]:
    """Period boundaries (len n+1, open-ended) and the UTC offset of each period (len n)."""
    first_year = datetime.fromtimestamp(lo, UTC).year
    last_year = datetime.fromtimestamp(hi, UTC).year
    changes = [c for y in range(first_year, last_year + 1) for c in _year_transitions(timezone, y)]
    initial = _offset(ZoneInfo(timezone), epoch(datetime(first_year, 1, 1, tzinfo=UTC)))
    bounds = [ALL_TIME[0], *(instant for instant, _ in changes), ALL_TIME[1]]
    offsets = [initial, *(offset for _, offset in changes)]
    return np.array(bounds, dtype=np.int64), np.array(offsets, dtype=np.int64)


def _wall_intervals(spec: CalendarSpec, first_day: int, last_day: int) -> tuple[Ints, ...]:
    """Working ranges of local days first_day..last_day as merged wall-clock epoch seconds."""
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    weekdays = (days + 3) % 7  # 1970-01-01 was a Thursday
    holidays = np.array([(d - date(1970, 1, 1)).days for d in spec.holidays], dtype=np.int64)
    days_worked = ~np.isin(days, holidays)
    starts, ends = [], []
    for weekday, start_minute, end_minute in spec.ranges:
        midnights = days[days_worked & (weekdays == weekday)] * DAY
        starts.append(midnights + start_minute * 60)
        ends.append(midnights + end_minute * 60)
    return merge_intervals(np.concatenate(starts), np.concatenate(ends))


def _wall_to_instants(
    wall_starts: Ints, wall_ends: Ints, bounds: Ints, offsets: Ints
) -> tuple[Ints, Ints]:
    """Instants whose wall time (t + offset of t's period) lies in the wall intervals."""
    starts, ends = [], []
    for index, offset in enumerate(offsets.tolist()):
        wall_lo, wall_hi = bounds[index] + offset, bounds[index + 1] + offset
        first = np.searchsorted(wall_ends, wall_lo, side="right")
        last = np.searchsorted(wall_starts, wall_hi, side="left")
        clipped_starts = np.maximum(wall_starts[first:last], wall_lo) - offset
        clipped_ends = np.minimum(wall_ends[first:last], wall_hi) - offset
        starts.append(clipped_starts)
        ends.append(clipped_ends)
    return np.concatenate(starts), np.concatenate(ends)


def _bucket_index(starts: Ints, lo: int, hi: int) -> tuple[int, Ints] | None:
    """(shift, index): index[k] = last interval starting at or before lo + (k << shift).

    The bucket width ``1 << shift`` is at most the smallest gap between interval starts,
    so a bucket holds at most one start; None when that needs too many buckets.
    """
    gaps = np.diff(starts)
    gaps = gaps[gaps > 0]
    if gaps.size == 0:
        return None
    shift = min(int(gaps.min()).bit_length() - 1, BUCKET_SHIFTS[1])
    buckets = ((hi - lo) >> shift) + 1
    if shift < BUCKET_SHIFTS[0] or buckets > MAX_BUCKETS:
        return None
    firsts = lo + (np.arange(buckets, dtype=np.int64) << shift)
    return shift, np.searchsorted(starts, firsts, side="right") - 1


def _fresh_parts(
    starts: Ints, ends: Ints, owner: Ints, lows: Ints, highs: Ints
) -> tuple[Ints, Ints]:
    """Per pause [lows, highs), clipped to its owner's ticket, the part no earlier pause
    of the same ticket covers: together these parts tile the union of each ticket's pauses.

    Each ticket gets its own band of the number line (shifted by the durations of the
    tickets before it, plus one), so one argsort orders the pauses by (owner, start) and
    one ``np.maximum.accumulate`` gives, per pause, the reach of the earlier ones in its
    ticket. Returned in the original order (empty parts are [x, x)).
    """
    lows = np.clip(lows, starts[owner], ends[owner])
    highs = np.clip(highs, lows, ends[owner])
    widths = ends - starts + 1  # ends >= starts
    band = (np.cumsum(widths) - widths - starts)[owner]
    order = np.argsort(lows + band)  # ties may come in any order
    reach = np.maximum.accumulate(highs[order] + band[order])
    before = np.empty_like(lows)
    before[order] = np.concatenate(([-(2**62)], reach[:-1])) - band[order]
    return np.maximum(lows, before), np.maximum(highs, before)


def merge_intervals(starts: Ints, ends: Ints) -> tuple[Ints, Ints]:
    """Union of [start, end) intervals, sorted; touching intervals merge; empty ones vanish."""
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if starts.size == 0:
        return starts, ends
    order = np.argsort(starts, kind="stable")
    starts, reach = starts[order], np.maximum.accumulate(ends[order])
    opens = np.concatenate(([True], starts[1:] > reach[:-1]))
    closes = np.concatenate((opens[1:], [True]))
    return starts[opens], reach[closes]


class WorkingTimeTable:
    """Merged working intervals over the instants [lo, hi] with cumulative working seconds.

    ``starts[0] == lo`` and ``ends[-1] == hi`` (zero-length sentinels), so for
    lo <= t <= hi: ``i = searchsorted(starts, t, "right") - 1`` is valid and
    ``F(t) = cum[i] + min(t, ends[i]) - starts[i]``. A 24x7 table is one interval over
    all time. Instances are not changed after construction, except that a wider table
    built on demand is remembered (``covering``).
    """

    def __init__(self, spec: CalendarSpec, starts: Ints, ends: Ints) -> None:
        self.spec = spec
        self.starts, self.ends = starts, ends
        lengths = ends - starts
        self.cum = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        self.cum_end = self.cum + lengths
        self._base = self.cum - starts  # F(t) = _base[i] + min(t, ends[i])
        self.lo, self.hi = int(starts[0]), int(ends[-1])
        self.total = int(self.cum_end[-1])
        self._next_starts = np.append(starts[1:], np.iinfo(np.int64).max)
        self._buckets = _bucket_index(starts, self.lo, self.hi)
        self._wider: WorkingTimeTable | None = None

    @classmethod
    def build(cls, spec: CalendarSpec, start: datetime, end: datetime) -> WorkingTimeTable:
        """Expand the calendar for the instants [start, end] (padded by a few days)."""
        return cls.from_epochs(spec, epoch(start), epoch(end))

    @classmethod
    def from_epochs(cls, spec: CalendarSpec, lo: int, hi: int) -> WorkingTimeTable:
        if spec.is_24x7:
            return cls(spec, np.array([ALL_TIME[0]]), np.array([ALL_TIME[1]]))
        first_day, last_day = lo // DAY - PAD_DAYS, max(lo, hi) // DAY + PAD_DAYS
        cover_lo, cover_hi = (first_day + 2) * DAY, (last_day - 1) * DAY
        wall_starts, wall_ends = _wall_intervals(spec, first_day, last_day)
        bounds, offsets = _offset_periods(spec.timezone, first_day * DAY, (last_day + 2) * DAY)
        starts, ends = _wall_to_instants(wall_starts, wall_ends, bounds, offsets)
        starts, ends = merge_intervals(
            np.clip(starts, cover_lo, cover_hi), np.clip(ends, cover_lo, cover_hi)
        )
        starts = np.concatenate(([cover_lo], starts, [cover_hi]))  # zero-length sentinels
        ends = np.concatenate(([cover_lo], ends, [cover_hi]))
        return cls(spec, starts, ends)

    def covers(self, lo: int, hi: int) -> bool:
        return self.lo <= lo and hi <= self.hi

    def covering(self, lo: int, hi: int) -> WorkingTimeTable:
        """This table if it covers [lo, hi], else a wider one (built once, then reused)."""
        if self.covers(lo, hi):
            return self
        wider = self._wider
        if wider is None or not wider.covers(lo, hi):
            lo, hi = min(lo, self.lo), max(hi, self.hi)
            wider = WorkingTimeTable.from_epochs(self.spec, lo - 366 * DAY, hi + 366 * DAY)
            self._wider = wider
        return wider

    def working_before(self, instants: Ints) -> Ints:
        """F(t): working seconds in [lo, t) for each t (must lie within [lo, hi])."""
        if self._buckets is None:
            index = np.searchsorted(self.starts, instants, side="right") - 1
        else:  # a bucket holds at most one interval start: one step past the bucket's index
            shift, by_bucket = self._buckets
            index = by_bucket.take((instants - self.lo) >> shift)
            index += self._next_starts.take(index) <= instants
        return self._base.take(index) + np.minimum(instants, self.ends.take(index))

    def _first_reaching(self, targets: Ints) -> Ints:
        """Earliest t with F(t) == target, for 0 < target <= total."""
        index = np.searchsorted(self.cum_end, targets, side="left")
        return self.starts[index] + (targets - self.cum[index])

    def elapsed_many(self, starts: Ints, ends: Ints) -> Ints:
        """Clock seconds of [starts[i], ends[i]) (0 where ends <= starts); int64 epochs."""
        starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
        if self.spec.is_24x7:
            return np.maximum(ends - starts, 0)
        table = self._covering_arrays(starts, ends)
        return np.maximum(table.working_before(ends) - table.working_before(starts), 0)

    def elapsed_many_with_pauses(
        self, starts: Ints, ends: Ints, pause_owner: Ints, pause_starts: Ints, pause_ends: Ints
    ) -> Ints:
        """elapsed_many minus the working seconds covered by each ticket's merged pauses."""
        starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
        ends = np.maximum(ends, starts)
        table = self._covering_arrays(starts, ends)
        owner = np.asarray(pause_owner, np.int64)
        lows, highs = np.asarray(pause_starts, np.int64), np.asarray(pause_ends, np.int64)
        fresh_starts, fresh_ends = _fresh_parts(starts, ends, owner, lows, highs)
        covered = table.working_before(fresh_ends) - table.working_before(fresh_starts)
        paused = np.bincount(owner, weights=covered, minlength=starts.size)
        # float sums are exact here: per-ticket totals stay far below 2**53
        return table.elapsed_many(starts, ends) - np.rint(paused).astype(np.int64)

    def deadline_many(self, starts: Ints, seconds: Ints) -> Ints:
        """Earliest instants at which the clock started at starts[i] has run seconds[i]."""
        starts, seconds = np.asarray(starts, np.int64), np.asarray(seconds, np.int64)
        if starts.size == 0:
            return starts.copy()
        if np.any(seconds < 0):
            raise ValueError("seconds must be >= 0")
        span = int(seconds.max()) * 4 + 30 * DAY
        table = self._covering_arrays(starts, starts + span)
        while True:
            targets = table.working_before(starts) + seconds
            if targets.max() <= table.total:
                break
            span = _next_span(span)
            table = table.covering(int(starts.min()), int(starts.max()) + span)
        return np.where(seconds == 0, starts, table._first_reaching(np.maximum(targets, 1)))

    def _covering_arrays(self, starts: Ints, ends: Ints) -> WorkingTimeTable:
        if starts.size == 0:
            return self
        return self.covering(int(min(starts.min(), ends.min())), int(max(starts.max(), ends.max())))

    def elapsed(self, a: datetime, b: datetime, pauses: Pauses = ()) -> int:
        """Clock seconds in [a, b) minus the pauses' working seconds; 0 if b <= a."""
        lo, hi = epoch(a), epoch(b)
        pause_starts, pause_ends = _pause_arrays(pauses)
        if hi <= lo:
            return 0
        owner = np.zeros(pause_starts.size, np.int64)
        result = self.elapsed_many_with_pauses(
            np.array([lo]), np.array([hi]), owner, pause_starts, pause_ends
        )
        return int(result[0])

    def deadline(self, start: datetime, seconds: int, pauses: Pauses = ()) -> datetime:
        """Earliest instant at which the clock started at ``start`` has run ``seconds``.

        ``seconds == 0`` returns ``start``. The result is in ``start``'s time zone. The
        table is widened automatically when the deadline lies beyond its span.
        """
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        origin = epoch(start)
        pause_starts, pause_ends = merge_intervals(*_pause_arrays(pauses))
        keep = pause_ends > origin
        pause_starts, pause_ends = np.maximum(pause_starts[keep], origin), pause_ends[keep]
        span = max(int(pause_ends.max()) - origin if pause_ends.size else 0, 0)
        span += seconds * 4 + 30 * DAY
        while True:
            table = self.covering(origin, origin + span)
            found = table._deadline_epoch(origin, seconds, pause_starts, pause_ends)
            if found is not None:
                return (_EPOCH + timedelta(seconds=found)).astimezone(start.tzinfo)
            span = _next_span(span)

    def _deadline_epoch(
        self, origin: int, seconds: int, pause_starts: Ints, pause_ends: Ints
    ) -> int | None:
        """Walk the merged pauses, spending working time between them; None if off-table."""
        if seconds == 0:
            return origin
        cursor, remaining = origin, seconds
        for pause_start, pause_end in zip(pause_starts.tolist(), pause_ends.tolist(), strict=True):
            available = self._scalar_f(pause_start) - self._scalar_f(cursor)
            if remaining <= available:
                break
            remaining -= available
            cursor = pause_end
        target = self._scalar_f(cursor) + remaining
        if target > self.total:
            return None
        return int(self._first_reaching(np.array([target]))[0])

    def _scalar_f(self, instant: int) -> int:
        return int(self.working_before(np.array([instant], np.int64))[0])


def _pause_arrays(pauses: Pauses) -> tuple[Ints, Ints]:
    starts = np.array([epoch(start) for start, _ in pauses], dtype=np.int64)
    ends = np.array([epoch(end) for _, end in pauses], dtype=np.int64)
    return starts, ends


def _next_span(span: int) -> int:
    if span > MAX_DEADLINE_SEARCH:
        raise ValueError("no deadline within 200 years: the calendar has no working time")
    return span * 2


# -- cache ------------------------------------------------------------------------------

_CACHE: OrderedDict[CalendarSpec, WorkingTimeTable] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def table_for(spec: CalendarSpec, start: datetime, end: datetime) -> WorkingTimeTable:
    """A cached table for ``spec`` covering [start, end]; spans are widened to whole years.

    One table per spec is kept (the widest built so far), in an LRU of CACHE_SIZE specs.
    """
    lo, hi = epoch(start), epoch(end)
    with _CACHE_LOCK:
        table = _CACHE.get(spec)
        if table is not None and table.covers(lo, hi):
            _CACHE.move_to_end(spec)
            return table
    if table is not None:
        lo, hi = min(lo, table.lo), max(hi, table.hi)
    first = datetime(datetime.fromtimestamp(lo, UTC).year, 1, 1, tzinfo=UTC)
    last = datetime(datetime.fromtimestamp(hi, UTC).year + 1, 1, 1, tzinfo=UTC)
    table = WorkingTimeTable.build(spec, first, last)
    with _CACHE_LOCK:
        _CACHE[spec] = table
        _CACHE.move_to_end(spec)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return table


def clear_cache() -> None:
    """Forget every cached table (and the cached UTC-offset transitions)."""
    with _CACHE_LOCK:
        _CACHE.clear()
    _year_transitions.cache_clear()

"""The SLA clock against an independent brute-force reference, plus hand-checkable examples.

The reference decides membership instant by instant: an instant counts iff the
calendar is 24x7, or zoneinfo's local wall time for it lies on a non-holiday date
inside one of that weekday's ranges. Calendar boundaries, test instants and pauses
are all aligned to the reference's step, so stepping by that amount is exact.
No database is used.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.calendars.clock import CalendarSpec, WorkingTimeTable, clear_cache, epoch, table_for

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600
DAY = 86_400
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
DST_ANCHORS = [  # UTC instants of 2026 offset changes (Berlin, New York, Lord Howe)
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
]
YEAR_2026 = (epoch(datetime(2026, 1, 1, tzinfo=UTC)), epoch(datetime(2027, 1, 1, tzinfo=UTC)))
OFFICE = CalendarSpec(
    "Europe/Berlin",
    ranges=tuple((weekday, 8 * 60, 18 * 60) for weekday in range(5)),
    holidays=frozenset({date(2026, 12, 25)}),
)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def at(instant: int) -> datetime:
    return datetime.fromtimestamp(instant, UTC)


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


# -- the brute-force reference ---------------------------------------------------------


def instant_counter(spec: CalendarSpec) -> Callable[[int], bool]:
    """The per-instant definition of working time."""
    if not spec.ranges:
        return lambda _instant: True
    zone = ZoneInfo(spec.timezone)
    by_weekday: dict[int, list[tuple[int, int]]] = {}
    for weekday, start_minute, end_minute in spec.ranges:
        by_weekday.setdefault(weekday, []).append((start_minute * 60, end_minute * 60))

    def counts(instant: int) -> bool:
        local = datetime.fromtimestamp(instant, zone)
        if local.date() in spec.holidays:
            return False
        second = local.hour * 3600 + local.minute * 60 + local.second
        return any(lo <= second < hi for lo, hi in by_weekday.get(local.weekday(), ()))

    return counts


class Reference:
    """Membership of each step [t, t + step) of [lo, hi), decided at t."""

    def __init__(self, spec: CalendarSpec, lo: int, hi: int, step: int) -> None:
        counts = instant_counter(spec)
        self.lo, self.hi, self.step = lo, hi, step
        self.member = np.array([counts(t) for t in range(lo, hi, step)], dtype=bool)

    def _working(self, a: int, b: int, pauses: list[tuple[int, int]]) -> np.ndarray:
        steps = self.member[(a - self.lo) // self.step : (b - self.lo) // self.step].copy()
        for pause_start, pause_end in pauses:
            first = (min(max(pause_start, a), b) - a) // self.step
            last = (min(max(pause_end, a), b) - a) // self.step
            steps[first:last] = False
        return steps

    def elapsed(self, a: int, b: int, pauses: list[tuple[int, int]] = ()) -> int:
        if b <= a:
            return 0
        return int(self._working(a, b, list(pauses)).sum()) * self.step

    def deadline(self, a: int, seconds: int, pauses: list[tuple[int, int]] = ()) -> int:
        if seconds == 0:
            return a
        run = np.cumsum(self._working(a, self.hi, list(pauses))) * self.step
        index = int(np.argmax(run >= seconds))
        assert run[index] >= seconds, "deadline beyond the reference window"
        return a + index * self.step + seconds - (int(run[index]) - self.step)


# -- strategies ------------------------------------------------------------------------

BOUNDARY = st.one_of(
    st.sampled_from([0, 60, 90, 120, 150, 180, 240, 1380, 1440]), st.integers(0, 1440)
)


@st.composite
def calendars(draw: st.DrawFn, first_day: date, last_day: date) -> CalendarSpec:
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 5)) == 0:
        return CalendarSpec(zone, holidays=frozenset(draw(st.sets(st.dates(first_day, last_day)))))
    ranges = []
    for weekday in range(7):
        points = sorted(draw(st.sets(BOUNDARY, max_size=6)))
        ranges += [(weekday, lo, hi) for lo, hi in zip(points[::2], points[1::2], strict=False)]
    ranges = draw(st.permutations(ranges))
    holidays = draw(st.sets(st.dates(first_day, last_day), max_size=3))
    return CalendarSpec(zone, tuple(ranges), frozenset(holidays))


@st.composite
def scenarios(draw: st.DrawFn, step: int = 60, max_length: int = 10 * DAY) -> tuple:
    """(spec, lo, hi, reference): a window of at most max_length, often across DST."""
    minute_anchor = st.integers(YEAR_2026[0] // 60, YEAR_2026[1] // 60).map(lambda m: m * 60)
    anchor = draw(st.one_of(st.sampled_from([epoch(a) for a in DST_ANCHORS]), minute_anchor))
    reach = max_length // step
    lo = anchor + draw(st.integers(-reach // 2, reach // 8)) * step
    hi = lo + draw(st.integers(1, reach)) * step
    first_day = at(lo).date() - timedelta(days=1)
    spec = draw(calendars(first_day, at(hi).date() + timedelta(days=1)))
    return spec, lo, hi, Reference(spec, lo, hi, step)


def instants(lo: int, hi: int, step: int) -> st.SearchStrategy[int]:
    return st.integers(0, (hi - lo) // step).map(lambda k: lo + k * step)


def pause_lists(lo: int, hi: int, step: int) -> st.SearchStrategy[list[tuple[int, int]]]:
    """0-4 pauses that may overlap, span weekends and stick out of the window."""
    span = hi - lo
    starts = st.integers(-(span + 3 * DAY) // step, (span + DAY) // step)
    lengths = st.integers(0, (span + 4 * DAY) // step)
    pause = st.tuples(starts, lengths).map(lambda p: (lo + p[0] * step, lo + sum(p) * step))
    return st.lists(pause, max_size=4)


def as_datetimes(pauses: list[tuple[int, int]]) -> list[tuple[datetime, datetime]]:
    return [(at(start), at(end)) for start, end in pauses]


# -- property tests --------------------------------------------------------------------


@PROPERTY
@given(st.data(), scenarios())
def test_elapsed_matches_reference(data: st.DataObject, scenario: tuple) -> None:
    spec, lo, hi, reference = scenario
    a, b = data.draw(instants(lo, hi, 60)), data.draw(instants(lo, hi, 60))
    pauses = data.draw(pause_lists(lo, hi, 60))
    table = WorkingTimeTable.build(spec, at(lo), at(hi))
    assert table.elapsed(at(a), at(b)) == reference.elapsed(a, b)
    assert table.elapsed(at(a), at(b), as_datetimes(pauses)) == reference.elapsed(a, b, pauses)


@PROPERTY
@given(st.data(), scenarios())
def test_elapsed_many_matches_reference(data: st.DataObject, scenario: tuple) -> None:
    spec, lo, hi, reference = scenario
    pairs = data.draw(st.lists(st.tuples(instants(lo, hi, 60), instants(lo, hi, 60)), min_size=1))
    pauses = data.draw(pause_lists(lo, hi, 60))
    owners = data.draw(st.lists(st.integers(0, len(pairs) - 1), min_size=len(pauses)))
    owners = owners[: len(pauses)]
    starts = np.array([a for a, _ in pairs], np.int64)
    ends = np.array([b for _, b in pairs], np.int64)
    table = WorkingTimeTable.build(spec, at(lo), at(hi))
    expected = [reference.elapsed(a, b) for a, b in pairs]
    assert table.elapsed_many(starts, ends).tolist() == expected
    expected = [
        reference.elapsed(a, b, [p for p, o in zip(pauses, owners, strict=True) if o == k])
        for k, (a, b) in enumerate(pairs)
    ]
    result = table.elapsed_many_with_pauses(
        starts,
        ends,
        np.array(owners, np.int64),
        np.array([p[0] for p in pauses], np.int64),
        np.array([p[1] for p in pauses], np.int64),
    )
    assert result.tolist() == expected


@PROPERTY
@given(st.data(), scenarios())
def test_deadline_matches_reference(data: st.DataObject, scenario: tuple) -> None:
    spec, lo, hi, reference = scenario
    start = data.draw(instants(lo, hi, 60))
    pauses = data.draw(pause_lists(lo, hi, 60))
    total = reference.elapsed(start, hi, pauses)
    at_pause_starts = [reference.elapsed(start, min(max(p, start), hi), pauses) for p, _ in pauses]
    seconds = data.draw(
        st.one_of(st.integers(0, total), st.sampled_from([total, *at_pause_starts]))
    )
    table = WorkingTimeTable.build(spec, at(lo), at(hi))
    found = table.deadline(at(start), seconds, as_datetimes(pauses))
    assert epoch(found) == reference.deadline(start, seconds, pauses)
    assert table.elapsed(at(start), found, as_datetimes(pauses)) == seconds
    if seconds:
        earlier = found - timedelta(seconds=1)
        assert table.elapsed(at(start), earlier, as_datetimes(pauses)) < seconds
    later = data.draw(instants(start, hi, 60))
    reached = table.deadline(at(start), table.elapsed(at(start), at(later)))
    assert reached <= at(later)
    many = table.deadline_many(np.array([start]), np.array([seconds]))
    assert many.tolist() == [reference.deadline(start, seconds)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), scenarios(step=1, max_length=5 * HOUR))
def test_second_level_instants_match_reference(data: st.DataObject, scenario: tuple) -> None:
    spec, lo, hi, reference = scenario
    a, b = data.draw(instants(lo, hi, 1)), data.draw(instants(lo, hi, 1))
    pauses = data.draw(pause_lists(lo, hi, 1))
    table = WorkingTimeTable.build(spec, at(lo), at(hi))
    assert table.elapsed(at(a), at(b), as_datetimes(pauses)) == reference.elapsed(a, b, pauses)
    seconds = data.draw(st.integers(0, reference.elapsed(a, hi, pauses)))
    found = table.deadline(at(a), seconds, as_datetimes(pauses))
    assert epoch(found) == reference.deadline(a, seconds, pauses)


# -- examples a reader can check by hand ----------------------------------------------


@pytest.fixture
def office() -> WorkingTimeTable:
    return WorkingTimeTable.build(OFFICE, berlin(2026, 1, 1), berlin(2027, 1, 1))


def test_friday_afternoon_to_monday_morning_is_two_hours(office: WorkingTimeTable) -> None:
    assert office.elapsed(berlin(2026, 3, 6, 17), berlin(2026, 3, 9, 9)) == 2 * HOUR


def test_after_hours_weekend_is_zero(office: WorkingTimeTable) -> None:
    assert office.elapsed(berlin(2026, 3, 6, 20), berlin(2026, 3, 9, 7)) == 0


def test_overnight_after_hours(office: WorkingTimeTable) -> None:
    assert office.elapsed(berlin(2026, 3, 9, 19), berlin(2026, 3, 10, 7, 30)) == 0
    assert office.elapsed(berlin(2026, 3, 9, 19), berlin(2026, 3, 10, 8, 30)) == 30 * 60


def test_reversed_interval_is_zero(office: WorkingTimeTable) -> None:
    assert office.elapsed(berlin(2026, 3, 10, 12), berlin(2026, 3, 10, 9)) == 0


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_24x7_dst_days_last_23_and_25_hours(day: date, hours: int) -> None:
    table = WorkingTimeTable.build(
        CalendarSpec("Europe/Berlin"), berlin(2026, 1, 1), berlin(2027, 1, 1)
    )
    start, end = berlin(day.year, day.month, day.day), berlin(day.year, day.month, day.day + 1)
    assert table.elapsed(start, end) == hours * HOUR


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 2), (date(2026, 10, 25), 4)])
def test_dst_rule_gap_skipped_repeated_hour_counted_twice(day: date, hours: int) -> None:
    spec = CalendarSpec("Europe/Berlin", ranges=((6, 60, 240),))  # Sundays 01:00-04:00
    table = WorkingTimeTable.build(spec, berlin(2026, 1, 1), berlin(2027, 1, 1))
    start, end = berlin(day.year, day.month, day.day), berlin(day.year, day.month, day.day + 1)
    assert table.elapsed(start, end) == hours * HOUR


def test_holiday_is_excluded(office: WorkingTimeTable) -> None:
    # Thursday 17-18 (1 h), Christmas Friday (0), Monday 08-09 (1 h).
    assert office.elapsed(berlin(2026, 12, 24, 17), berlin(2026, 12, 28, 9)) == 2 * HOUR


def test_24x7_ignores_holidays() -> None:
    spec = CalendarSpec("Europe/Berlin", holidays=frozenset({date(2026, 12, 25)}))
    table = WorkingTimeTable.build(spec, berlin(2026, 12, 1), berlin(2026, 12, 31))
    assert table.elapsed(berlin(2026, 12, 25), berlin(2026, 12, 26)) == 24 * HOUR


def test_weekend_pause_subtracts_only_working_seconds(office: WorkingTimeTable) -> None:
    start, end = berlin(2026, 3, 6, 9), berlin(2026, 3, 10, 12)  # Fri 9 h, Mon 10 h, Tue 4 h
    assert office.elapsed(start, end) == 23 * HOUR
    pause = (berlin(2026, 3, 6, 17), berlin(2026, 3, 9, 10))  # Fri 1 h + Mon 2 h
    assert office.elapsed(start, end, [pause]) == 20 * HOUR


def test_overlapping_pauses_count_once(office: WorkingTimeTable) -> None:
    pauses = [
        (berlin(2026, 3, 9, 9), berlin(2026, 3, 9, 11)),
        (berlin(2026, 3, 9, 10), berlin(2026, 3, 9, 12)),
    ]
    assert office.elapsed(berlin(2026, 3, 9, 8), berlin(2026, 3, 9, 18), pauses) == 7 * HOUR


def test_deadline_four_business_hours_from_friday_afternoon(office: WorkingTimeTable) -> None:
    assert office.deadline(berlin(2026, 3, 6, 16), 4 * HOUR) == berlin(2026, 3, 9, 10)
    pause = (berlin(2026, 3, 9, 8), berlin(2026, 3, 9, 9))
    assert office.deadline(berlin(2026, 3, 6, 16), 4 * HOUR, [pause]) == berlin(2026, 3, 9, 11)
    assert office.deadline(berlin(2026, 3, 7, 12), 0) == berlin(2026, 3, 7, 12)


def test_deadline_reached_just_as_a_pause_starts(office: WorkingTimeTable) -> None:
    pause = (berlin(2026, 3, 9, 10), berlin(2026, 3, 9, 20))
    assert office.deadline(berlin(2026, 3, 9, 8), 2 * HOUR, [pause]) == berlin(2026, 3, 9, 10)


def test_deadline_many_matches_scalar(office: WorkingTimeTable) -> None:
    starts = [berlin(2026, 3, 6, 16), berlin(2026, 3, 7, 12), berlin(2026, 12, 24, 17)]
    seconds = [4 * HOUR, 0, 2 * HOUR]
    found = office.deadline_many(np.array([epoch(s) for s in starts]), np.array(seconds))
    expected = [epoch(office.deadline(s, n)) for s, n in zip(starts, seconds, strict=True)]
    assert found.tolist() == expected


def test_naive_datetimes_raise(office: WorkingTimeTable) -> None:
    naive, aware = datetime(2026, 3, 9, 9), berlin(2026, 3, 9, 9)
    with pytest.raises(ValueError, match="naive"):
        office.elapsed(naive, aware)
    with pytest.raises(ValueError, match="naive"):
        office.elapsed(aware, aware + timedelta(hours=1), [(naive, aware)])
    with pytest.raises(ValueError, match="naive"):
        office.deadline(naive, 60)
    with pytest.raises(ValueError, match="naive"):
        WorkingTimeTable.build(OFFICE, naive, aware)


def test_adjacent_ranges_across_midnight_merge() -> None:
    spec = CalendarSpec("UTC", ranges=((1, 0, 60), (0, 1380, 1440)))  # Mon 23-24, Tue 00-01
    table = WorkingTimeTable.build(spec, at(YEAR_2026[0]), at(YEAR_2026[0] + 60 * DAY))
    lengths = (table.ends - table.starts)[table.ends > table.starts]
    assert set(lengths.tolist()) == {2 * HOUR}


def test_pauses_vectorised_with_unsorted_owners(office: WorkingTimeTable) -> None:
    monday = epoch(berlin(2026, 3, 9, 8))
    starts = np.array([monday, monday, monday])
    ends = starts + 10 * HOUR
    owners = np.array([2, 0, 2, 0])
    pause_starts = monday + np.array([1, -50, 2, 9]) * HOUR
    pause_ends = monday + np.array([3, -40, 4, 30]) * HOUR
    result = office.elapsed_many_with_pauses(starts, ends, owners, pause_starts, pause_ends)
    assert result.tolist() == [9 * HOUR, 10 * HOUR, 7 * HOUR]


def test_tables_extend_beyond_their_span() -> None:
    narrow = WorkingTimeTable.build(OFFICE, berlin(2026, 3, 2), berlin(2026, 3, 9))
    wide = WorkingTimeTable.build(OFFICE, berlin(2025, 1, 1), berlin(2029, 1, 1))
    start, end = berlin(2026, 3, 6, 16), berlin(2027, 6, 1, 12)
    assert narrow.elapsed(start, end) == wide.elapsed(start, end)
    assert narrow.deadline(start, 2000 * HOUR) == wide.deadline(start, 2000 * HOUR)
    early = np.array([epoch(berlin(2025, 2, 3, 9))])
    assert (
        narrow.elapsed_many(early, early + 400 * DAY).tolist()
        == wide.elapsed_many(early, early + 400 * DAY).tolist()
    )


def test_table_for_reuses_covering_tables() -> None:
    clear_cache()
    first = table_for(OFFICE, berlin(2026, 3, 1), berlin(2026, 4, 1))
    assert table_for(OFFICE, berlin(2026, 5, 1), berlin(2026, 6, 1)) is first
    wider = table_for(OFFICE, berlin(2026, 5, 1), berlin(2028, 6, 1))
    assert wider is not first and wider.covers(first.lo, epoch(berlin(2028, 6, 1)))
    other = CalendarSpec("Europe/Berlin", OFFICE.ranges)
    assert table_for(other, berlin(2026, 5, 1), berlin(2026, 6, 1)) is not wider

"""SLA clock: the vectorised table against a bare numpy floor and a per-day Python loop.

Needs only numpy and holidays (no database): ``.venv/bin/python -m bench.clock``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from zoneinfo import ZoneInfo

import holidays
import numpy as np

from apps.calendars.clock import CalendarSpec, WorkingTimeTable, clear_cache, epoch

SEED = 20_260_101
TICKETS = 100_000
BASELINE_TICKETS = 2_000
RUNS = 5
SPAN = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
MINUTE, MONTH = 60, 30 * 86_400


def office_calendar() -> CalendarSpec:
    """Mon-Fri 08:00-18:00 Europe/Berlin with German national holidays 2024-2027."""
    german = holidays.country_holidays("DE", years=range(2024, 2028))
    ranges = tuple((weekday, 8 * 60, 18 * 60) for weekday in range(5))
    return CalendarSpec("Europe/Berlin", ranges, frozenset(german))


def tickets(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Starts uniform over 2025-2026, durations log-uniform between 1 minute and 30 days."""
    starts = rng.integers(epoch(SPAN[0]), epoch(SPAN[1]), TICKETS, dtype=np.int64)
    durations = np.exp(rng.uniform(np.log(MINUTE), np.log(MONTH), TICKETS)).astype(np.int64)
    return starts, starts + durations


def pauses(
    rng: np.random.Generator, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0-3 pauses per ticket, each inside the ticket or overlapping one of its ends."""
    owner = np.repeat(np.arange(starts.size), rng.integers(0, 4, starts.size))
    durations = (ends - starts)[owner]
    pause_starts = starts[owner] + (rng.uniform(-0.2, 1.0, owner.size) * durations).astype(np.int64)
    pause_ends = pause_starts + (rng.uniform(0.0, 0.5, owner.size) * durations).astype(np.int64)
    return owner, pause_starts, pause_ends


def bare_kernel(table: WorkingTimeTable, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The irreducible floor: two searchsorted calls and the cumulative-sum arithmetic."""
    i = np.searchsorted(table.starts, starts, side="right") - 1
    j = np.searchsorted(table.starts, ends, side="right") - 1
    before_end = table.cum[j] + np.minimum(ends, table.ends[j]) - table.starts[j]
    return before_end - (table.cum[i] + np.minimum(starts, table.ends[i]) - table.starts[i])


def _wall_instant(day: date, minute: int, zone: ZoneInfo) -> int:
    wall = datetime.combine(day, wall_time()) + timedelta(minutes=minute)
    return int(wall.replace(tzinfo=zone).timestamp())


def per_day_loop(spec: CalendarSpec, starts: np.ndarray, ends: np.ndarray) -> list[int]:
    """The straightforward baseline: walk the local days of each ticket, intersect ranges."""
    zone = ZoneInfo(spec.timezone)
    by_weekday: dict[int, list[tuple[int, int]]] = {}
    for weekday, start_minute, end_minute in spec.ranges:
        by_weekday.setdefault(weekday, []).append((start_minute, end_minute))
    results = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        total = 0
        day = datetime.fromtimestamp(start, zone).date()
        last = datetime.fromtimestamp(end, zone).date()
        while day <= last:
            if day not in spec.holidays:
                for start_minute, end_minute in by_weekday.get(day.weekday(), ()):
                    lo = _wall_instant(day, start_minute, zone)
                    hi = _wall_instant(day, end_minute, zone)
                    total += max(0, min(end, hi) - max(start, lo))
            day += timedelta(days=1)
        results.append(total)
    return results


def median_seconds(work: Callable[[], object], runs: int = RUNS) -> float:
    work()  # warm-up
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def cold_build(spec: CalendarSpec, lo: int, hi: int) -> WorkingTimeTable:
    clear_cache()
    return WorkingTimeTable.from_epochs(spec, lo, hi)


def _row(measure: str, figure: str, goal: str, met: bool | None) -> str:
    verdict = "—" if met is None else ("yes" if met else "**no**")
    return f"| {measure} | {figure} | {goal} | {verdict} |"


def run() -> str:
    spec = office_calendar()
    rng = np.random.default_rng(SEED)
    starts, ends = tickets(rng)
    owner, pause_starts, pause_ends = pauses(rng, starts, ends)
    lo, hi = int(starts.min()), int(ends.max())

    build = median_seconds(lambda: cold_build(spec, lo, hi))
    table = WorkingTimeTable.from_epochs(spec, lo, hi)
    assert np.array_equal(table.elapsed_many(starts, ends), bare_kernel(table, starts, ends))
    vectorised = median_seconds(lambda: table.elapsed_many(starts, ends))
    bare = median_seconds(lambda: bare_kernel(table, starts, ends))
    paused = median_seconds(
        lambda: table.elapsed_many_with_pauses(starts, ends, owner, pause_starts, pause_ends)
    )
    sample = slice(0, BASELINE_TICKETS)
    looped = median_seconds(lambda: per_day_loop(spec, starts[sample], ends[sample]))
    agree = np.array(per_day_loop(spec, starts[sample], ends[sample])) == table.elapsed_many(
        starts[sample], ends[sample]
    )

    pairs_per_second = TICKETS / vectorised
    loop_per_second = BASELINE_TICKETS / looped
    ratio, speed_up = vectorised / bare, pairs_per_second / loop_per_second
    paused_per_second = TICKETS / paused
    rows = [
        _row(
            "`elapsed_many`",
            f"{pairs_per_second:,.0f} pairs/s",
            ">= 3,000,000",
            pairs_per_second >= 3_000_000,
        ),
        _row("bare numpy kernel (2 searchsorted)", f"{TICKETS / bare:,.0f} pairs/s", "—", None),
        _row("`elapsed_many` / bare kernel", f"{ratio:.2f}x", "<= 3x", ratio <= 3),
        _row(
            f"`elapsed_many_with_pauses` ({owner.size:,} pauses)",
            f"{paused_per_second:,.0f} tickets/s",
            ">= 1,000,000",
            paused_per_second >= 1_000_000,
        ),
        _row("per-day Python loop", f"{loop_per_second:,.0f} pairs/s", "—", None),
        _row("speed-up over the loop", f"{speed_up:,.0f}x", ">= 50x", speed_up >= 50),
        _row(
            f"table build, 2 years ({table.starts.size:,} intervals)",
            f"{build * 1000:.1f} ms",
            "—",
            None,
        ),
    ]
    return (
        "## SLA clock\n\n"
        f"{TICKETS:,} tickets starting uniformly in 2025-2026 (UTC), durations log-uniform "
        "1 min-30 days, calendar Mon-Fri 08:00-18:00 Europe/Berlin with German national "
        f"holidays; numpy seed {SEED}; median of {RUNS} runs each. The per-day loop ran on "
        f"{BASELINE_TICKETS:,} tickets and agreed with the table on "
        f"{int(agree.sum()):,}/{BASELINE_TICKETS:,}. The table build includes finding the "
        "UTC-offset changes (cache cleared before each build). `elapsed_many` locates "
        "instants through a per-bucket index instead of a binary search, which is why it "
        "beats the two-`searchsorted` kernel.\n\n"
        "| measure | figure | goal | met? |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )


if __name__ == "__main__":
    print(run())

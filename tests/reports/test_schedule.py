"""When reports are due: slots in the subscriber's timezone, across DST, once per period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.reports.schedule import due_from_label, latest_due


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def due(frequency: str, now: datetime, *, day: int = 1, hour: int = 7, tz: str = "Europe/Berlin"):
    return latest_due(frequency=frequency, send_day=day, send_hour=hour, timezone=tz, now=now)


def test_monthly_slot_reports_the_previous_month_from_the_local_send_time():
    before = due("monthly", utc(2026, 12, 1, 5, 59))  # 06:59 in Berlin: not yet
    after = due("monthly", utc(2026, 12, 1, 6, 0))  # 07:00 in Berlin
    assert before.label == "2026-10" and after.label == "2026-11"
    assert after.slot == utc(2026, 12, 1, 6)
    assert after.period.label == "2026-11"


def test_quarterly_slot_reports_the_previous_quarter():
    assert due("quarterly", utc(2026, 10, 5, 12), day=3).label == "2026-Q3"
    assert due("quarterly", utc(2026, 10, 2, 12), day=3).label == "2026-Q2"
    assert due("quarterly", utc(2027, 1, 3, 6), day=3).label == "2026-Q4"


def test_weekly_slot_reports_the_previous_iso_week_with_its_month():
    monday = utc(2026, 11, 30, 12)  # Monday of ISO week 49
    found = due("weekly", monday, day=0, hour=7, tz="America/New_York")
    assert found.label == "2026-W48"
    assert found.period.label == "2026-11"  # the month week 48 ends in (Sunday 29 Nov)
    assert due("weekly", utc(2026, 11, 30, 11, 59), day=0, tz="America/New_York").label == (
        "2026-W47"
    )  # 06:59 in New York: still last week's


@pytest.mark.parametrize(
    ("tz", "first", "last"),
    [
        ("Europe/Berlin", utc(2026, 3, 1), utc(2026, 4, 15)),  # spring forward 29 March
        ("Europe/Berlin", utc(2026, 10, 1), utc(2026, 11, 15)),  # fall back 25 October
        ("America/New_York", utc(2026, 3, 1), utc(2026, 3, 31)),  # spring forward 8 March
        ("America/New_York", utc(2026, 10, 20), utc(2026, 11, 20)),  # fall back 1 November
    ],
)
def test_every_period_is_due_exactly_once_when_the_clocks_change(tz, first, last):
    """Step a clock through the DST change in 5-minute steps: every weekly and monthly slot
    appears once, never twice and never skipped, even at 02:00-03:00 local time."""
    for frequency, hour, day in [("weekly", 2, 6), ("monthly", 2, 1), ("weekly", 7, 0)]:
        seen: list[str] = []
        now = first
        while now <= last:
            label = due(frequency, now, day=day, hour=hour, tz=tz).label
            if not seen or seen[-1] != label:
                seen.append(label)
            now += timedelta(minutes=5)
        assert len(seen) == len(set(seen)), (frequency, seen)  # never back to an older one
        if frequency == "weekly":
            weeks = [int(label.split("-W")[1]) for label in seen]
            assert weeks == list(range(weeks[0], weeks[0] + len(weeks)))  # none skipped


def test_a_label_gives_back_its_period():
    assert due_from_label("monthly", "2026-11").period.label == "2026-11"
    assert due_from_label("quarterly", "2026-Q3").period.label == "2026-Q3"
    assert due_from_label("weekly", "2026-W48").period.label == "2026-11"

"""When a subscription's report is due, and which period it reports on.

A subscription has one *slot* per period: weekly on ``send_day`` (a weekday) at
``send_hour``, monthly on day ``send_day`` of the month, quarterly on that day of the
quarter's first month — local time in the subscription's timezone, so the slot moves
with daylight-saving time and a report never goes out twice or not at all when the
clocks change. The latest slot at or before *now* is due until a run exists for its
period: a dispatch that missed a slot (a dropped beat tick, an outage) catches up at
the next one, and older periods are not back-filled.

- monthly: the slot in month M reports on month M-1 ("2026-11");
- quarterly: the slot in quarter Q reports on quarter Q-1 ("2026-Q3");
- weekly: the slot in ISO week W reports on week W-1 ("2026-W47"), with the figures of
  the month that week ends in, as they stand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from apps.calendars.periods import Period, parse_period, period_containing


@dataclass(frozen=True)
class Due:
    label: str  # the run's period key: 2026-11, 2026-Q3, 2026-W47
    slot: datetime  # when the report became due (aware)
    period: Period  # the period whose figures the report shows


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), zone)


def latest_due(
    *, frequency: str, send_day: int, send_hour: int, timezone: str, now: datetime
) -> Due:
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    if frequency == "weekly":
        day = today - timedelta(days=(today.weekday() - send_day) % 7)
        if _at(day, send_hour, zone) > now:
            day -= timedelta(days=7)
        week_end = day - timedelta(days=day.weekday() + 1)  # the Sunday before the slot week
        year, week, _ = week_end.isocalendar()
        return Due(
            f"{year}-W{week:02d}", _at(day, send_hour, zone), period_containing(week_end, "month")
        )
    kind = "quarter" if frequency == "quarterly" else "month"
    current = period_containing(today, kind)
    slot_day = current.first_day.replace(day=send_day)
    if _at(slot_day, send_hour, zone) > now:
        current = current.previous()
        slot_day = current.first_day.replace(day=send_day)
    reported = current.previous()
    return Due(reported.label, _at(slot_day, send_hour, zone), reported)


def next_slot_after(due: Due, frequency: str) -> datetime:
    """The slot after ``due`` (for the admin's "next report" column)."""
    step = {"weekly": relativedelta(weeks=1), "quarterly": relativedelta(months=3)}.get(
        frequency, relativedelta(months=1)
    )
    zone = due.slot.tzinfo
    local = due.slot.replace(tzinfo=None) + step
    return local.replace(tzinfo=zone)


_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def frequency_of_label(label: str) -> str:
    """The frequency whose runs a label names: ``2026-W48`` weekly, ``2026-Q3`` quarterly,
    ``2026-11`` monthly; ValueError with a readable message for anything else."""
    if match := _WEEK.match(label.strip()):
        try:
            date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError as exc:
            raise ValueError(f"'{label[:20]}' is not an ISO week ({exc}).") from exc
        return "weekly"
    try:
        period = parse_period(label)
    except ValueError as exc:
        raise ValueError(f"{exc} Weekly reports: YYYY-Www (e.g. 2026-W48).") from exc
    return "quarterly" if period.kind == "quarter" else "monthly"


def due_from_label(frequency: str, label: str) -> Due:
    """The Due of a run key (its slot is not needed to send it again)."""
    if frequency == "weekly":
        year, _, week = label.partition("-W")
        week_end = date.fromisocalendar(int(year), int(week), 7)
        return Due(
            label,
            datetime.min.replace(tzinfo=ZoneInfo("UTC")),
            period_containing(week_end, "month"),
        )
    return Due(label, datetime.min.replace(tzinfo=ZoneInfo("UTC")), parse_period(label))

"""Writes to calendars: hours and holidays replace the old ones; every change bumps the version.
Making a calendar the default takes the mark from the calendar that had it."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from apps.calendars.models import Calendar, CalendarHoliday, WorkingRange, format_minutes
from apps.core.history import delete_as, save_as
from apps.core.services import instance_save


def validate_working_ranges(ranges: list[tuple[int, int, int]]) -> list[str]:
    """Messages for inverted, out-of-day or overlapping ranges (index-prefixed); empty if valid."""
    problems: list[str] = []
    for index, (weekday, start, end) in enumerate(ranges):
        if not 0 <= weekday <= 6:
            problems.append(f"[{index}] weekday must be 0 (Monday) to 6 (Sunday).")
        if not 0 <= start < end <= 24 * 60:
            problems.append(
                f"[{index}] {format_minutes(start)}–{format_minutes(end)} must start before it "
                "ends, within one day (24:00 ends a day)."
            )
    ordered = sorted(enumerate(ranges), key=lambda item: (item[1][0], item[1][1]))
    for (i, (day_a, _, end_a)), (j, (day_b, start_b, _)) in pairwise(ordered):
        if day_a == day_b and start_b < end_a:
            problems.append(f"[{j}] overlaps range [{i}] on the same weekday.")
    return problems


@transaction.atomic
def calendar_save(
    *,
    calendar: Calendar | None = None,
    acting_user: Any,
    working_hours: list[tuple[int, int, int]] | None = None,
    holidays: list[tuple[date, str]] | None = None,
    **data: Any,
) -> Calendar:
    """Create or update a calendar; ``working_hours``/``holidays`` replace the existing ones.

    Every change bumps ``version``, which keys the SLA clock's cached tables.
    """
    errors: dict[str, list[str]] = {}
    if working_hours is not None:
        problems = validate_working_ranges(working_hours)
        if problems:
            errors["working_hours"] = problems
    if holidays is not None:
        seen = [day for day, _ in holidays]
        duplicates = sorted({day for day in seen if seen.count(day) > 1})
        if duplicates:
            errors["holidays"] = [f"{day} is listed twice." for day in duplicates]
    if errors:
        raise ValidationError(errors)

    calendar = calendar or Calendar()
    is_new = calendar.pk is None
    if data.get("is_default"):
        _default_clear(keep=calendar, acting_user=acting_user)
    instance_save(instance=calendar, acting_user=acting_user, data=data)
    if working_hours is not None:
        for old in calendar.working_ranges.all():
            delete_as(old, acting_user)
        for weekday, start, end in working_hours:
            save_as(
                WorkingRange(
                    calendar=calendar, weekday=weekday, start_minute=start, end_minute=end
                ),
                acting_user,
            )
    if holidays is not None:
        for holiday in calendar.holidays.all():
            delete_as(holiday, acting_user)
        for day, name in holidays:
            save_as(CalendarHoliday(calendar=calendar, date=day, name=name), acting_user)
    if not is_new:
        calendar_bump_version(calendar=calendar)
    return calendar


def _default_clear(*, keep: Calendar, acting_user: Any) -> None:
    """One default per tenant: the calendar becoming the default takes over from the old one."""
    for previous in Calendar.objects.select_for_update().filter(is_default=True):
        if previous.pk != keep.pk:
            previous.is_default = False
            save_as(previous, acting_user, update_fields=["is_default"])


def calendar_bump_version(*, calendar: Calendar) -> None:
    """Invalidate cached clock tables of this calendar (hours or holidays changed)."""
    Calendar.objects.filter(pk=calendar.pk).update(version=F("version") + 1)
    calendar.refresh_from_db(fields=["version"])

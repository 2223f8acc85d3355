"""From Calendar rows to the SLA clock's CalendarSpec, cached per tenant, calendar and version."""

from __future__ import annotations

import threading
from datetime import datetime

from apps.calendars.clock import CalendarSpec, WorkingTimeTable, table_for
from apps.calendars.models import Calendar
from apps.core.tenancy import current_schema

# Public holidays are expanded for this span of years (the `holidays` package
# computes them; a calendar's spec is built once per version per process).
HOLIDAY_YEARS = range(2000, 2051)

_SPECS: dict[tuple[str, int, int], CalendarSpec] = {}
_LOCK = threading.Lock()


def calendar_spec(calendar: Calendar | None, default_timezone: str) -> CalendarSpec:
    """The clock's view of a calendar; ``None`` means 24×7 in the default timezone.

    Cached by (schema, id, version): every edit bumps ``version``, so a changed
    calendar gets a fresh spec, and with it fresh clock tables.
    """
    if calendar is None:
        return CalendarSpec(timezone=default_timezone)
    key = (current_schema(), calendar.pk, calendar.version)
    with _LOCK:
        spec = _SPECS.get(key)
    if spec is not None:
        return spec
    ranges = tuple(
        sorted(calendar.working_ranges.values_list("weekday", "start_minute", "end_minute"))
    )
    holidays = frozenset(calendar.holiday_dates(HOLIDAY_YEARS)) if ranges else frozenset()
    spec = CalendarSpec(timezone=calendar.timezone, ranges=ranges, holidays=holidays)
    with _LOCK:
        _SPECS[key] = spec
    return spec


def clock_table(spec: CalendarSpec, start: datetime, end: datetime) -> WorkingTimeTable:
    return table_for(spec, start, end)

"""Business-hours calendars: working ranges per weekday, public and company holidays.

A calendar with no working ranges is 24×7 and counts all time, holidays
included (docs/DESIGN.md §3). ``version`` is bumped on every change
(``apps.calendars.services``) and keys the SLA clock's cached tables.
At most one calendar is the tenant's default (``is_default``): the clock of an
objective that names no calendar, on an agreement that names none either
(``apps.revisions.selectors.resolve_calendar``). The tenant row lives in the
public schema, so the default is kept here, in the tenant's own schema.
"""

from __future__ import annotations

import zoneinfo
from datetime import date
from functools import cache

import holidays as holidays_lib
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from apps.core.validators import validate_date_in_range

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]
MINUTES_PER_DAY = 24 * 60


@cache
def timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in timezone_names():
        raise ValidationError(f"'{value}' is not an IANA timezone (e.g. Europe/Berlin).")


def validate_holiday_region(country: str | None, subdivision: str | None) -> dict[str, str]:
    """Field errors for a holiday country/subdivision pair (empty when valid)."""
    if not country:
        return {"holiday_subdivision": "Choose a country first."} if subdivision else {}
    supported = holidays_lib.list_supported_countries()
    if country not in supported:
        return {"holiday_country": f"'{country}' is not a supported ISO country code."}
    if subdivision and subdivision not in supported[country]:
        return {"holiday_subdivision": f"'{subdivision}' is not a subdivision of {country}."}
    return {}


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_minutes(text: str) -> int:
    """'08:30' -> 510; '24:00' ends a day. Raises ValueError otherwise."""
    hours, _, mins = text.strip().partition(":")
    digits = hours + mins
    if not (digits.isascii() and digits.isdigit() and len(mins) == 2 and 1 <= len(hours) <= 2):
        raise ValueError(f"'{text}' is not a time of day (HH:MM).")
    value = int(hours) * 60 + int(mins)
    if int(mins) >= 60 or value > MINUTES_PER_DAY:
        raise ValueError(f"'{text}' is not a time of day between 00:00 and 24:00.")
    return value


class Calendar(models.Model):
    """Working time of a team or a service window; no ranges means 24×7."""

    name = models.CharField(max_length=200, unique=True)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    holiday_country = models.CharField(
        max_length=3,
        blank=True,
        default="",
        help_text="ISO code, e.g. DE; public holidays come from the `holidays` package.",
    )
    holiday_subdivision = models.CharField(
        max_length=10, blank=True, default="", help_text="e.g. BE for Berlin."
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped on every change; keys the clock's cache."
    )
    is_default = models.BooleanField(
        "default calendar",
        default=False,
        help_text="The tenant's default: used by objectives and agreements that name no "
        "calendar of their own. At most one calendar is the default.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        # At most one default: a partial unique index (migration 0003), not a model
        # constraint, so forms and serializers do not refuse the mark that
        # calendar_save moves from the old default to the new one.

    def __str__(self) -> str:
        return f"{self.name} ({self.timezone})"

    def clean(self) -> None:
        errors = validate_holiday_region(
            self.holiday_country or None, self.holiday_subdivision or None
        )
        if errors:
            raise ValidationError(errors)

    @property
    def is_24x7(self) -> bool:
        return not self.working_ranges.exists()

    def holiday_dates(self, years: range) -> dict[date, str]:
        """Public holidays of the region plus the calendar's own dates."""
        found: dict[date, str] = {}
        if self.holiday_country:
            found.update(
                holidays_lib.country_holidays(
                    self.holiday_country,
                    subdiv=self.holiday_subdivision or None,
                    years=list(years),
                )
            )
        for holiday in self.holidays.all():
            if holiday.date.year in years:
                found[holiday.date] = holiday.name
        return found


class WorkingRange(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="working_ranges")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    start_minute = models.PositiveSmallIntegerField(help_text="Minutes after local midnight.")
    end_minute = models.PositiveSmallIntegerField(help_text="1440 = 24:00.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["calendar", "weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    start_minute__gte=0,
                    start_minute__lt=models.F("end_minute"),
                    end_minute__lte=MINUTES_PER_DAY,
                ),
                name="working_range_within_day",
                violation_error_message="A range starts before it ends, within one day.",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_weekday_display()} {format_minutes(self.start_minute)}–"
            f"{format_minutes(self.end_minute)}"
        )


class CalendarHoliday(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(validators=[validate_date_in_range])
    name = models.CharField(max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_holiday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"

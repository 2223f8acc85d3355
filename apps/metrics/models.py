"""Business-hours calendars and objectives (SLOs).

Measurement data, compliance results and the clock arrive with the engine;
this module holds what providers edit.
"""

from __future__ import annotations

import zoneinfo
from datetime import date
from decimal import Decimal
from functools import cache

import holidays as holidays_lib
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from apps.agreements.models import Service
from apps.revisions.models import LockedWithRevision, Revision

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
    if not (hours.isdigit() and mins.isdigit() and len(mins) == 2):
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
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

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
    date = models.DateField()
    name = models.CharField(max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_holiday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Metric(models.TextChoices):
    AVAILABILITY = "availability", "Availability"
    RESPONSE_TIME = "response_time", "Response time"
    RESOLUTION_TIME = "resolution_time", "Resolution time"
    FIRST_CONTACT_RESOLUTION = "first_contact_resolution", "First-contact resolution"
    CLOSURE_RATE = "closure_rate", "Closure rate"
    TURNAROUND_TIME = "turnaround_time", "Turnaround time"
    SAMPLE = "sample", "Custom sample aggregate"


PERCENT_METRICS = {
    Metric.AVAILABILITY,
    Metric.RESPONSE_TIME,
    Metric.RESOLUTION_TIME,
    Metric.FIRST_CONTACT_RESOLUTION,
    Metric.CLOSURE_RATE,
}
THRESHOLD_METRICS = {Metric.RESPONSE_TIME, Metric.RESOLUTION_TIME}


class Comparison(models.TextChoices):
    GTE = "gte", "at least (≥)"
    LTE = "lte", "at most (≤)"


class Aggregate(models.TextChoices):
    MEAN = "mean", "mean"
    MIN = "min", "minimum"
    MAX = "max", "maximum"
    SUM = "sum", "sum"
    COUNT = "count", "count"
    P50 = "p50", "50th percentile"
    P90 = "p90", "90th percentile"
    P95 = "p95", "95th percentile"
    P99 = "p99", "99th percentile"


TURNAROUND_AGGREGATES = {Aggregate.MEAN, Aggregate.P50, Aggregate.P90, Aggregate.P95, Aggregate.P99}


class Period(models.TextChoices):
    MONTH = "month", "Calendar month"
    QUARTER = "quarter", "Calendar quarter"


# The terms of an objective, in the order forms, the API and the diff show them.
OBJECTIVE_TERMS = (
    "key",
    "name",
    "metric",
    "target",
    "comparison",
    "threshold_seconds",
    "aggregate",
    "sample_metric",
    "period",
    "calendar",
    "service",
    "priority",
)

key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,62}$", "Lowercase letters, digits and underscores, starting with a letter."
)


class Objective(LockedWithRevision):
    """A service-level objective on a revision; children inherit it by ``key``."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="objectives")
    key = models.CharField(
        max_length=63,
        validators=[key_validator],
        help_text="Stable name; a child agreement overrides by reusing it.",
    )
    name = models.CharField(max_length=200, blank=True)
    metric = models.CharField(max_length=32, choices=Metric.choices)
    target = models.DecimalField(max_digits=14, decimal_places=4)
    comparison = models.CharField(max_length=3, choices=Comparison.choices, default=Comparison.GTE)
    threshold_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Response/resolution: clock seconds allowed per ticket."
    )
    # null (not blank) = "not applicable", as in the API contract.
    aggregate = models.CharField(  # noqa: DJ001
        max_length=8, choices=Aggregate.choices, null=True, blank=True
    )
    sample_metric = models.CharField(  # noqa: DJ001
        max_length=63, null=True, blank=True, validators=[key_validator]
    )
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTH)
    calendar = models.ForeignKey(
        Calendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="objectives",
        help_text="Business hours (or service window) the clock runs in; none = 24×7.",
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="objectives"
    )
    priority = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001
    history = HistoricalRecords()

    class Meta:
        ordering = ["revision", "key"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "key"], name="objective_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.describe()}"

    def describe(self) -> str:
        sign = "≥" if self.comparison == Comparison.GTE else "≤"
        unit = (
            "%"
            if self.metric in PERCENT_METRICS
            else (" s" if self.metric == Metric.TURNAROUND_TIME else "")
        )
        what = self.get_metric_display()
        if self.metric == Metric.SAMPLE:
            what = f"{self.aggregate} of {self.sample_metric}"
        elif self.metric == Metric.TURNAROUND_TIME:
            what = f"turnaround ({self.aggregate})"
        if self.threshold_seconds:
            what += f" within {self.threshold_seconds // 60} min"
        return f"{what} {sign} {self.target.normalize():f}{unit} per {self.period}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (
            self.metric in PERCENT_METRICS
            and self.target is not None
            and not (Decimal(0) <= self.target <= Decimal(100))
        ):
            errors["target"] = "A percentage target lies between 0 and 100."
        if self.metric in THRESHOLD_METRICS and not self.threshold_seconds:
            errors["threshold_seconds"] = "Response and resolution objectives need a threshold."
        if self.metric not in THRESHOLD_METRICS and self.threshold_seconds:
            errors["threshold_seconds"] = "Only response and resolution objectives take one."
        if self.metric == Metric.SAMPLE:
            if not self.sample_metric:
                errors["sample_metric"] = "Name the sample metric (e.g. latency_ms)."
            if not self.aggregate:
                errors["aggregate"] = "Choose how samples are aggregated."
        elif self.sample_metric:
            errors["sample_metric"] = "Only sample objectives take a sample metric."
        if self.metric == Metric.TURNAROUND_TIME:
            if self.aggregate not in TURNAROUND_AGGREGATES:
                errors["aggregate"] = "Turnaround uses the mean or a percentile."
        elif self.metric != Metric.SAMPLE and self.aggregate:
            errors["aggregate"] = "Only turnaround and sample objectives take an aggregate."
        if (
            self.period == Period.QUARTER
            and self.revision_id
            and self.revision.effective_from.month not in (1, 4, 7, 10)
        ):
            errors["period"] = (
                "A quarterly objective needs a revision effective from the start of a quarter."
            )
        if errors:
            raise ValidationError(errors)


# Measurement data and results live in their own modules; importing them here
# registers the models with the app.
from apps.metrics.measurements import (  # noqa: E402, F401
    ExclusionEvent,
    Outage,
    Sample,
    Ticket,
    TicketPause,
)
from apps.metrics.results import ComplianceAdjustment, ComplianceResult  # noqa: E402, F401

"""Objectives (SLOs): what a revision promises, measured per period (docs/DESIGN.md §3, §6).

An objective belongs to a revision and freezes with it. A child agreement
inherits its ancestors' objectives by ``key`` and overrides one by reusing the key.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.agreements.models import Service
from apps.calendars.models import Calendar
from apps.core.validators import key_validator
from apps.revisions.models.revision import LockedWithRevision, Revision


class Metric(models.TextChoices):
    AVAILABILITY = "availability", _("Availability")
    RESPONSE_TIME = "response_time", _("Response time")
    RESOLUTION_TIME = "resolution_time", _("Resolution time")
    FIRST_CONTACT_RESOLUTION = "first_contact_resolution", _("First-contact resolution")
    CLOSURE_RATE = "closure_rate", _("Closure rate")
    TURNAROUND_TIME = "turnaround_time", _("Turnaround time")
    SAMPLE = "sample", _("Custom sample aggregate")


PERCENT_METRICS = {
    Metric.AVAILABILITY,
    Metric.RESPONSE_TIME,
    Metric.RESOLUTION_TIME,
    Metric.FIRST_CONTACT_RESOLUTION,
    Metric.CLOSURE_RATE,
}
THRESHOLD_METRICS = {Metric.RESPONSE_TIME, Metric.RESOLUTION_TIME}


class Comparison(models.TextChoices):
    GTE = "gte", _("at least (≥)")
    LTE = "lte", _("at most (≤)")


class Aggregate(models.TextChoices):
    MEAN = "mean", _("mean")
    MIN = "min", _("minimum")
    MAX = "max", _("maximum")
    SUM = "sum", _("sum")
    COUNT = "count", _("count")
    P50 = "p50", _("50th percentile")
    P90 = "p90", _("90th percentile")
    P95 = "p95", _("95th percentile")
    P99 = "p99", _("99th percentile")


TURNAROUND_AGGREGATES = {Aggregate.MEAN, Aggregate.P50, Aggregate.P90, Aggregate.P95, Aggregate.P99}


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Calendar month")
    QUARTER = "quarter", _("Calendar quarter")


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
    period = models.CharField(max_length=8, choices=PeriodKind.choices, default=PeriodKind.MONTH)
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
            self.period == PeriodKind.QUARTER
            and self.revision_id
            and self.revision.effective_from.month not in (1, 4, 7, 10)
        ):
            errors["period"] = (
                "A quarterly objective needs a revision effective from the start of a quarter."
            )
        if errors:
            raise ValidationError(errors)

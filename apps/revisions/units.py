"""How an objective's figures read: the unit of its metric, values and durations with it.

Attainment is a percentage for availability and the ratio metrics, clock seconds for
turnaround (shown as a duration) and the sample's own unit for sample aggregates,
taken from the metric key's suffix (``latency_ms`` → ms). One module, so the portal,
the PDF, the CSV and the e-mails all print the same figure the same way, in the
active language's number format.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from apps.revisions.models import PERCENT_METRICS, Metric, Objective

SAMPLE_SUFFIXES = {"ms": "ms", "s": "s", "seconds": "s", "pct": "%", "percent": "%", "mb": "MB"}


def unit_of(metric: str, sample_metric: str | None = None) -> str:
    """ "%" for percentages, "s" for clock seconds, else the sample's unit (may be "")."""
    if metric in PERCENT_METRICS:
        return "%"
    if metric == Metric.TURNAROUND_TIME:
        return "s"
    suffix = (sample_metric or "").rsplit("_", 1)[-1] if "_" in (sample_metric or "") else ""
    return SAMPLE_SUFFIXES.get(suffix, "")


def format_duration(seconds: int | float | Decimal) -> str:
    """Clock time for people: "42 min", "4 h 05 min", "3 d 2 h"; negative with a minus sign."""
    total = round(float(seconds))
    sign = "−" if total < 0 else ""
    minutes = abs(total) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    unit_d, unit_h, unit_min, unit_s = _("d"), _("h"), _("min"), _("s")
    if days:
        return f"{sign}{days} {unit_d} {hours} {unit_h}"
    if hours:
        return f"{sign}{hours} {unit_h} {mins:02d} {unit_min}"
    if minutes:
        return f"{sign}{mins} {unit_min}"
    return f"{sign}{abs(total)} {unit_s}"


def format_number(value: Decimal | float | int, places: int = 2) -> str:
    """A number in the active language's format, without needless trailing zeros."""
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
    exponent = number.normalize().as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    return number_format(number, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def format_value(
    value: Decimal | float | int | None, metric: str, sample_metric: str | None = None
) -> str:
    """An attained value or a target with its unit; "–" when there is none."""
    if value is None:
        return "–"
    unit = unit_of(metric, sample_metric)
    if unit == "s":
        return format_duration(value)
    text = format_number(value, 2 if unit == "%" else 1)
    return f"{text} {unit}".rstrip()


def format_target(objective: Objective) -> str:
    """ "≥ 99.9 %", "≤ 4 h 00 min", "≤ 250 ms"."""
    sign = "≥" if objective.comparison == "gte" else "≤"
    return f"{sign} {format_value(objective.target, objective.metric, objective.sample_metric)}"

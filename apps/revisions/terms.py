"""An objective in words for customers, in the active language: what it measures and what it
promises. One wording for the portal (apps.portal.wording) and the reports
(apps.reports.wording), which sit above this app; the reports keep figures whole on their
lines by passing ``whole``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _

from apps.revisions.models import Comparison, Metric, Objective, PeriodKind
from apps.revisions.units import format_duration, format_value


def metric_name(objective: Objective) -> str:
    """ "Availability", "First-contact resolution", "latency_ms (p95)"."""
    if objective.metric == Metric.SAMPLE and objective.sample_metric:
        return f"{objective.sample_metric} ({objective.get_aggregate_display()})"
    if objective.metric in Metric.values:
        return str(Metric(objective.metric).label)
    return objective.metric


def per_period(objective: Objective) -> str:
    return _("per quarter") if objective.period == PeriodKind.QUARTER else _("per month")


def objective_terms(objective: Objective, whole: Callable[[str], str] = str) -> str:
    """What the objective promises, e.g. "First response within 1 h 00 min for ≥ 90 % of
    P1 tickets, per month" or "Availability ≥ 99.95 %, per month". ``whole`` is applied
    to each figure ("≥ 90 %", "1 h 00 min"), e.g. to keep it on one line."""
    sign = "≥" if objective.comparison == Comparison.GTE else "≤"
    value = format_value(objective.target, objective.metric, objective.sample_metric)
    target = whole(f"{sign} {value}")
    scope = (
        _("%(priority)s tickets") % {"priority": objective.priority} if objective.priority else ""
    )
    if objective.metric in (Metric.RESPONSE_TIME, Metric.RESOLUTION_TIME):
        limit = whole(format_duration(objective.threshold_seconds or 0))
        text = (
            _("First response within %(limit)s for %(target)s of %(scope)s")
            if objective.metric == Metric.RESPONSE_TIME
            else _("Resolution within %(limit)s for %(target)s of %(scope)s")
        ) % {"limit": limit, "target": target, "scope": scope or _("tickets")}
    elif objective.metric == Metric.TURNAROUND_TIME:
        text = _("Turnaround time (%(aggregate)s) %(target)s") % {
            "aggregate": objective.get_aggregate_display() or _("mean"),
            "target": target,
        }
    elif objective.metric == Metric.SAMPLE:
        text = _("%(metric)s (%(aggregate)s) %(target)s") % {
            "metric": objective.sample_metric or "",
            "aggregate": objective.get_aggregate_display(),
            "target": target,
        }
    else:
        text = f"{metric_name(objective)} {target}"
        if scope:
            text += f" ({scope})"
    return f"{text}, {per_period(objective)}"

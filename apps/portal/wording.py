"""Objectives, credit tiers and periods in words for customers, in the active language.

``Objective.describe()`` and ``CreditTier.__str__`` are the admin's short English forms
(raw seconds, no units on tier thresholds); the portal says the same with units,
durations and what a tier is worth in money.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.utils import dateformat
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from apps.calendars.periods import Period, parse_period
from apps.core.money import format_money_local, money_round
from apps.revisions.models import Comparison, CreditTier, Metric, Objective, PeriodKind
from apps.revisions.units import format_duration, format_number, format_value

HUNDRED = Decimal("100")


def period_name(label: str, *, short: bool = False) -> str:
    """ "2026-02" → "Feb 2026" (short: "Feb ’26"); "2026-Q3" → "Q3 2026" ("Q3 ’26")."""
    # A page names the same few periods hundreds of times (tiles, charts, legends).
    return _named(label, short, get_language() or "")


@lru_cache(maxsize=4096)
def _named(label: str, short: bool, language: str) -> str:
    try:
        period = parse_period(label)
    except ValueError:
        return label
    return _period_name(period, short=short)


def _period_name(period: Period, *, short: bool) -> str:
    first: date = period.first_day
    year = dateformat.format(first, "’y" if short else "Y")
    if period.kind == "quarter":
        return pgettext("quarter", "Q%(n)s %(year)s") % {
            "n": (first.month - 1) // 3 + 1,
            "year": year,
        }
    return f"{dateformat.format(first, 'M')} {year}"


def per_period(objective: Objective) -> str:
    return _("per quarter") if objective.period == PeriodKind.QUARTER else _("per month")


def objective_terms(objective: Objective) -> str:
    """What the objective promises, e.g. "First response within 1 h 00 min for ≥ 90 % of
    P1 tickets, per month" or "Availability ≥ 99.95 %, per month"."""
    sign = "≥" if objective.comparison == Comparison.GTE else "≤"
    target = f"{sign} {format_value(objective.target, objective.metric, objective.sample_metric)}"
    scope = (
        _("%(priority)s tickets") % {"priority": objective.priority} if objective.priority else ""
    )
    if objective.metric in (Metric.RESPONSE_TIME, Metric.RESOLUTION_TIME):
        limit = format_duration(objective.threshold_seconds or 0)
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
        text = f"{Metric(objective.metric).label} {target}"
        if scope:
            text += f" ({scope})"
    return f"{text}, {per_period(objective)}"


def tier_threshold(tier: CreditTier) -> str:
    """ "attained below 99.9 %" (or "above 250 ms" for an at-most objective)."""
    objective = tier.objective
    if objective is None:
        # A revision-wide tier applies to objectives of any metric: no one unit to name.
        return _("attained below %(below)s (in the unit of the objective it applies to)") % {
            "below": format_number(tier.below, 4)
        }
    below = format_value(tier.below, objective.metric, objective.sample_metric)
    if objective.comparison == Comparison.LTE:
        return _("attained above %(value)s") % {"value": below}
    return _("attained below %(value)s") % {"value": below}


def tier_scope(tier: CreditTier) -> str:
    if tier.objective is None:
        return _("any objective without tiers of its own")
    return tier.objective.name or tier.objective.key


def fee_share(percent: Decimal, monthly_fee: Decimal, currency: str) -> str:
    """``percent`` of one month's fee as money: "600.00 EUR"; "" without a fee."""
    if monthly_fee <= 0:
        return ""
    return format_money_local(money_round(monthly_fee * percent / HUNDRED, currency), currency)

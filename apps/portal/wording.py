"""Objectives, credit tiers and periods in words for customers, in the active language
(an objective's terms come from ``apps.revisions.terms``, shared with the reports).

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
from apps.core.money import format_money_local, percent_of
from apps.revisions.models import Comparison, CreditTier
from apps.revisions.units import format_number, format_value


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
    return format_money_local(percent_of(monthly_fee, percent, currency), currency)

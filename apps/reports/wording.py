"""Objectives, figures and outages in words for the reports' readers (customers), in the
active language: no internal keys, figures that never break across lines.

An objective's terms and what it measures come from ``apps.revisions.terms``, the one
wording the portal uses too.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.revisions import terms
from apps.revisions.models import Metric, Objective
from apps.revisions.terms import metric_name

NBSP = "\u00a0"


def nobreak(text: str) -> str:
    """``text`` with no-break spaces, so a figure stays whole on its line ("≥ 99.9 %",
    "85.71 %", "4 h 05 min", "1,200.00 EUR"); a comma and its space remain a place to
    break ("31 Oct 2026, | 9 p.m.")."""
    return text.replace(" ", NBSP).replace("," + NBSP, ", ")


def objective_title(objective: Objective) -> str:
    """The objective's name, or what it measures when it has none (never its key)."""
    if objective.name:
        return objective.name
    title = metric_name(objective)
    if objective.priority:
        title += f" ({_('%(priority)s tickets') % {'priority': objective.priority}})"
    return title


def objective_terms(objective: Objective) -> str:
    """What the objective promises, figures kept whole: "Resolution within 4 h 00 min for
    ≥ 97 % of P1 tickets, per month"."""
    return terms.objective_terms(objective, whole=nobreak)


def data_basis(metric: str, count: int) -> str:
    """What a result's data points are, for its metric: outages counted as downtime for
    availability, tickets opened or resolved, samples."""
    n = {"n": count}
    if metric == Metric.AVAILABILITY:
        if not count:
            return _("no outages counted")
        return ngettext("%(n)s outage counted", "%(n)s outages counted", count) % n
    if metric in (Metric.FIRST_CONTACT_RESOLUTION, Metric.TURNAROUND_TIME):
        if not count:
            return _("no tickets resolved")
        return ngettext("%(n)s ticket resolved", "%(n)s tickets resolved", count) % n
    if metric == Metric.SAMPLE:
        if not count:
            return _("no samples")
        return ngettext("%(n)s sample", "%(n)s samples", count) % n
    if not count:
        return _("no tickets opened")
    return ngettext("%(n)s ticket opened", "%(n)s tickets opened", count) % n

"""Template helpers of the portal: durations, money, charts of objective rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.compliance.timeline import ClockView
from apps.core.money import format_percent
from apps.credits.models import CreditStatus
from apps.portal.charts import Point, attainment_chart, clock_bar
from apps.portal.charts import status_word as _status_word
from apps.portal.selectors import ObjectiveRow
from apps.portal.textdiff import Line, paired
from apps.portal.wording import period_name
from apps.reports.templatetags import reports
from apps.revisions.diff import RevisionDiff, SectionDiff
from apps.revisions.models import Objective
from apps.revisions.readable import Change, objective_changes, section_lines, tier_changes
from apps.revisions.terms import objective_terms

register = template.Library()


# The report renderer's filters, under the same names (one implementation).
register.filter("minutes", reports.minutes)
register.filter("money", reports.money)
register.filter("get", reports.get)


@register.filter
def terms(objective: Objective) -> str:
    """What an objective promises, in words with units (apps.portal.wording)."""
    return objective_terms(objective)


@register.filter(name="period_name")
def period_name_filter(label: str) -> str:
    """ "2026-02" → "Feb 2026"."""
    return period_name(label)


@register.filter
def percent(value: Decimal) -> str:
    """ "12.5 %" without trailing zeros."""
    return format_percent(value)


@register.filter
def credit_status(status: str) -> str:
    """A credit status in words (the events keep the raw value)."""
    return str(CreditStatus(status).label) if status in CreditStatus.values else status


@register.filter
def epoch(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@register.simple_tag
def row_tiles(row: ObjectiveRow) -> SafeString:
    """The row's periods as linked tiles, each with its value and its status in words
    (a page has a few hundred: one tag, not a template loop, keeps the page fast)."""
    final = _("final")
    return format_html_join(
        "",
        '<li><a class="tile {}" href="{}"><span class="when">{}</span> <span class="fig">'
        '<span class="sym" aria-hidden="true">{}</span> {}</span>'
        '<span class="visually-hidden">, {}{}</span></a></li>',
        (
            (
                cell.status,
                cell.url,
                cell.name,
                status_symbol(cell.status),
                cell.text,
                _status_word(cell.status),
                f", {final}" if cell.final else "",
            )
            for cell in row.cells
        ),
    )


@register.simple_tag
def row_chart(row: ObjectiveRow) -> SafeString:
    points = [
        Point(
            cell.short,
            cell.result.attained if cell.result is not None else None,
            cell.status,
            cell.text,
            cell.name,
        )
        for cell in row.cells
    ]
    return attainment_chart(
        points, row.objective.target, title=row.name, unit=row.unit, target_text=row.target_text
    )


@register.filter
def over_seconds(clock: ClockView) -> int:
    """How far a ticket's clock went past its limit (0 when within)."""
    return max(clock.clock_seconds - clock.threshold_seconds, 0)


@register.simple_tag
def clock_chart(clock: ClockView) -> SafeString:
    start, end = int(clock.start.timestamp()), int(clock.end.timestamp())
    deadline = int(clock.deadline.timestamp()) if clock.deadline else None
    return clock_bar(clock.runs, start, end, deadline, title=clock.name)


@register.simple_tag
def readable_objectives(diff: RevisionDiff) -> list[Change]:
    return objective_changes(diff)


@register.simple_tag
def readable_tiers(diff: RevisionDiff) -> list[Change]:
    return tier_changes(diff)


@register.simple_tag
def text_changes(section: SectionDiff) -> list[Line]:
    """A section's changed text, word by word where a line was rewritten."""
    return paired(section_lines(section))


REVISION_FIELDS = {
    "effective_from": gettext_noop("effective from"),
    "credit_cap_percent": gettext_noop("credit cap (% of the fee per period)"),
    "summary": gettext_noop("summary"),
}


@register.filter
def revision_field(name: str) -> str:
    return _(REVISION_FIELDS.get(name, name))


@register.filter
def revision_value(value: Any, name: str) -> str:
    """A revision's term as people read it: a date in the active language, a cap in %."""
    if value in (None, ""):
        return "–"
    if name == "effective_from":
        try:
            return date_format(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if name == "credit_cap_percent":
        return f"{value} %"
    return str(value)


STATUS_SYMBOLS = {
    "met": "✓",
    "missed": "✗",
    "at_risk": "!",
    "pending": "…",
    "no_data": "–",
    "none": "·",
}


@register.filter
def status_symbol(status: str) -> str:
    return STATUS_SYMBOLS.get(status, "")


@register.filter
def status_word(status: str) -> str:
    """The status in words, in the active language (a cell's, a result's)."""
    return _status_word(status)

"""Template helpers of the portal: durations, money, charts of objective rows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils.safestring import SafeString

from apps.compliance.timeline import ClockView
from apps.core.money import format_money_local
from apps.portal.charts import Point, attainment_chart, clock_bar
from apps.portal.selectors import ObjectiveRow
from apps.revisions.diff import RevisionDiff, SectionDiff
from apps.revisions.readable import (
    Change,
    TextLine,
    objective_changes,
    section_lines,
    tier_changes,
)
from apps.revisions.units import format_duration

register = template.Library()


@register.filter
def minutes(seconds: int | float | Decimal | None) -> str:
    """Seconds as a readable duration: "42 min", "4 h 05 min", "−1 h 05 min"."""
    return "–" if seconds is None else format_duration(seconds)


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    return "–" if amount is None else format_money_local(amount, currency)


@register.filter
def epoch(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@register.simple_tag
def row_chart(row: ObjectiveRow) -> SafeString:
    points = [
        Point(
            cell.period,
            cell.result.attained if cell.result is not None else None,
            cell.status,
            cell.text,
        )
        for cell in row.cells
    ]
    return attainment_chart(points, row.objective.target, title=row.name)


@register.filter
def get(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key)


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
def readable_lines(section: SectionDiff) -> list[TextLine]:
    return section_lines(section)

"""A revision diff as people read it: objectives and tiers in words with units, and the
text as added and removed lines per section (no unified-diff syntax)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.revisions.diff import ItemChanges, RevisionDiff, SectionDiff
from apps.revisions.models import Metric
from apps.revisions.units import format_duration, format_value

FIELD_LABELS = {
    "name": gettext_noop("name"),
    "metric": gettext_noop("metric"),
    "target": gettext_noop("target"),
    "comparison": gettext_noop("comparison"),
    "threshold_seconds": gettext_noop("clock limit per ticket"),
    "aggregate": gettext_noop("aggregate"),
    "sample_metric": gettext_noop("sample metric"),
    "period": gettext_noop("period"),
    "calendar": gettext_noop("calendar"),
    "service": gettext_noop("service"),
    "priority": gettext_noop("priority"),
    "below": gettext_noop("below"),
    "percent": gettext_noop("share of the fee"),
}


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed
    subject: str
    text: str


@dataclass(frozen=True)
class TextLine:
    kind: str  # add | del | same | gap
    text: str


def _field(name: str, value: Any, snapshot: dict[str, Any]) -> str:
    if value is None or value == "":
        return "–"
    metric = snapshot.get("metric", "")
    if name == "target":
        return format_value(Decimal(value), metric, snapshot.get("sample_metric"))
    if name == "threshold_seconds":
        return format_duration(int(value))
    if name == "metric":
        return str(Metric(value).label) if value in Metric.values else str(value)
    if name == "comparison":
        return "≥" if value == "gte" else "≤"
    if name == "percent":
        return f"{value} %"
    return str(value)


def _describe(snapshot: dict[str, Any]) -> str:
    parts = [
        _field("metric", snapshot.get("metric"), snapshot),
        f"{_field('comparison', snapshot.get('comparison'), snapshot)} "
        f"{_field('target', snapshot.get('target'), snapshot)}",
    ]
    if snapshot.get("threshold_seconds"):
        parts.append(
            _("within %(limit)s")
            % {"limit": _field("threshold_seconds", snapshot["threshold_seconds"], snapshot)}
        )
    for name in ("priority", "service", "calendar"):
        if snapshot.get(name):
            parts.append(f"{_(FIELD_LABELS[name])} {snapshot[name]}")
    return ", ".join(parts)


def _changes(items: ItemChanges, label: str, old_items: dict[str, dict[str, Any]]) -> list[Change]:
    found = []
    for item in items.added:
        found.append(
            Change("added", str(item[label]), _describe(item) if label == "key" else _tier(item))
        )
    for item in items.removed:
        found.append(
            Change("removed", str(item[label]), _describe(item) if label == "key" else _tier(item))
        )
    for item in items.changed:
        snapshot = old_items.get(str(item[label]), {})
        texts = [
            f"{_(FIELD_LABELS.get(name, name))}: {_field(name, change['old'], snapshot)} → "
            f"{_field(name, change['new'], snapshot)}"
            for name, change in item["changes"].items()
        ]
        found.append(Change("changed", str(item[label]), "; ".join(texts)))
    return found


def _tier(item: dict[str, Any]) -> str:
    scope = item.get("objective") or _("any objective without tiers of its own")
    return _("%(scope)s below %(below)s earns %(percent)s %% of the fee") % {
        "scope": scope,
        "below": item.get("below"),
        "percent": item.get("percent"),
    }


def objective_changes(diff: RevisionDiff) -> list[Change]:
    old = {
        o.key: {"metric": o.metric, "sample_metric": o.sample_metric}
        for o in diff.base.objectives.all()
    }
    return _changes(diff.objectives, "key", old)


def tier_changes(diff: RevisionDiff) -> list[Change]:
    return _changes(diff.credit_tiers, "tier", {})


def section_lines(section: SectionDiff) -> list[TextLine]:
    lines: list[TextLine] = []
    for line in section.lines:
        if line.startswith("@@"):
            if lines:
                lines.append(TextLine("gap", "…"))
        elif line.startswith("+"):
            lines.append(TextLine("add", line[1:]))
        elif line.startswith("-"):
            lines.append(TextLine("del", line[1:]))
        else:
            lines.append(TextLine("same", line[1:] if line.startswith(" ") else line))
    return lines

"""What changed between two revisions: text per section, objectives and credit tiers.

This is the contract's "log of measures added and removed": every objective
(by key) and credit tier (by objective key and threshold) is reported as
added, removed or changed with its old and new values.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from apps.revisions.models import OBJECTIVE_TERMS, Revision, SectionKey

OBJECTIVE_FIELDS = tuple(name for name in OBJECTIVE_TERMS if name != "key")
REVISION_FIELDS = ("effective_from", "credit_cap_percent", "summary")


def _value(value: Any) -> Any:
    """A JSON-friendly, comparable form of a field value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "normalize"):  # Decimal: 99.9000 == 99.9
        return format(value.normalize(), "f")
    return str(value)


@dataclass
class SectionDiff:
    key: str
    title: str
    status: str  # added | removed | changed | unchanged
    lines: list[str] = field(default_factory=list)  # unified diff, without headers


@dataclass
class ItemChanges:
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass
class RevisionDiff:
    base: Revision
    other: Revision
    fields: dict[str, tuple[Any, Any]]
    sections: list[SectionDiff]
    objectives: ItemChanges
    credit_tiers: ItemChanges

    @property
    def text_changed(self) -> bool:
        return any(section.status != "unchanged" for section in self.sections)

    def as_dict(self) -> dict[str, Any]:
        return {
            "agreement": self.base.agreement_id,
            "from": {"id": self.base.pk, "number": self.base.number},
            "to": {"id": self.other.pk, "number": self.other.number},
            "fields": {name: {"old": old, "new": new} for name, (old, new) in self.fields.items()},
            "sections": [s.__dict__ for s in self.sections],
            "objectives": self.objectives.__dict__,
            "credit_tiers": self.credit_tiers.__dict__,
        }


def _objective_snapshot(objective) -> dict[str, Any]:
    return {name: _value(getattr(objective, name)) for name in OBJECTIVE_FIELDS}


def _diff_items(old: dict[Any, dict], new: dict[Any, dict], label: str) -> ItemChanges:
    changes = ItemChanges()
    for key in sorted(set(new) - set(old), key=str):
        changes.added.append({label: key, **new[key]})
    for key in sorted(set(old) - set(new), key=str):
        changes.removed.append({label: key, **old[key]})
    for key in sorted(set(old) & set(new), key=str):
        fields = {
            name: {"old": old[key][name], "new": new[key][name]}
            for name in old[key]
            if old[key][name] != new[key][name]
        }
        if fields:
            changes.changed.append({label: key, "changes": fields})
    return changes


def _tiers(revision: Revision) -> dict[str, dict[str, Any]]:
    tiers = {}
    for tier in revision.credit_tiers.select_related("objective"):
        scope = tier.objective.key if tier.objective else "*"
        tiers[f"{scope} < {_value(tier.below)}"] = {
            "objective": None if scope == "*" else scope,
            "below": _value(tier.below),
            "percent": _value(tier.percent),
        }
    return tiers


def _sections(base: Revision, other: Revision) -> list[SectionDiff]:
    old = {s.key: s.body for s in base.sections.all()}
    new = {s.key: s.body for s in other.sections.all()}
    result = []
    for key, title in SectionKey.choices:
        if key not in old and key not in new:
            continue
        before, after = old.get(key, ""), new.get(key, "")
        status = (
            "added"
            if key not in old
            else "removed"
            if key not in new
            else "unchanged"
            if before == after
            else "changed"
        )
        lines = list(
            difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2)
        )[2:]
        result.append(SectionDiff(key=key, title=str(title), status=status, lines=lines))
    return result


def revision_diff(base: Revision, other: Revision) -> RevisionDiff:
    """Changes from ``base`` to ``other`` (two revisions of the same agreement)."""
    fields = {}
    for name in REVISION_FIELDS:
        old, new = _value(getattr(base, name)), _value(getattr(other, name))
        if old != new:
            fields[name] = (old, new)
    objectives = _diff_items(
        {
            o.key: _objective_snapshot(o)
            for o in base.objectives.select_related("calendar", "service")
        },
        {
            o.key: _objective_snapshot(o)
            for o in other.objectives.select_related("calendar", "service")
        },
        "key",
    )
    tiers = _diff_items(_tiers(base), _tiers(other), "tier")
    return RevisionDiff(base, other, fields, _sections(base, other), objectives, tiers)


def diff_base(
    revision: Revision, *, among: QuerySet[Revision], against: Revision | None = None
) -> Revision | None:
    """The revision to compare ``revision`` with, from the revisions a user may see.

    ``against`` when given (it must belong to the same agreement: a diff never spans
    two agreements); otherwise the latest earlier revision; None for the first one.
    """
    if against is not None:
        if against.agreement_id != revision.agreement_id:
            raise ValidationError({"against": "That revision belongs to another agreement."})
        return against
    return (
        among.filter(agreement_id=revision.agreement_id, number__lt=revision.number)
        .order_by("-number")
        .first()
    )

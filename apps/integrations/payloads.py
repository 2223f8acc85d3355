"""Reading vendor payloads tolerantly: take the keys we use, check their types, ignore the rest.

Vendor bodies carry many fields we do not use (and add new ones), so they are not
run through the API's strict serializers. Every problem with a key we *do* use is
collected with its path, ``{"alerts": {"3": {"startsAt": ["..."]}}}``, and the
whole request is refused with ``PayloadError`` (a 400; nothing written).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from apps.core.timestamps import parse_timestamp

REQUIRED = "This field is required."
MAX_TEXT = 1000  # longest text we read from a payload (names, keys, statuses)

Path = Sequence[str]
Tree = dict[str, Any]


class PayloadError(Exception):
    """The payload was refused; ``errors`` holds field messages nested by path."""

    def __init__(self, errors: Tree) -> None:
        super().__init__(str(errors)[:500])
        self.errors = errors


class Problems:
    """Messages collected by path while a payload is read."""

    def __init__(self) -> None:
        self.tree: Tree = {}

    def add(self, path: Path, message: str) -> None:
        node = self.tree
        *parents, leaf = [str(part)[:64] for part in path] or ["non_field_errors"]
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # a message already sits here: keep both
                child = node[part] = {"non_field_errors": child}
            node = child
        existing = node.setdefault(leaf, [])
        if isinstance(existing, dict):
            existing.setdefault("non_field_errors", []).append(message)
        else:
            existing.append(message)

    def extend(self, other: Problems) -> None:
        """Add every message of ``other`` (collected with full paths)."""

        def walk(node: Tree, path: list[str]) -> None:
            for name, value in node.items():
                if isinstance(value, dict):
                    walk(value, [*path, name])
                else:
                    for message in value:
                        self.add([*path, name], message)

        walk(other.tree, [])

    def raise_if_any(self) -> None:
        if self.tree:
            raise PayloadError(self.tree)

    def __bool__(self) -> bool:
        return bool(self.tree)


def mapping(value: Any, path: Path, problems: Problems, *, required: bool = True) -> Mapping:
    """``value`` if it is a JSON object, else a problem and ``{}``."""
    if isinstance(value, Mapping):
        return value
    if value is not None or required:
        problems.add(path, REQUIRED if value is None else "Expected an object.")
    return {}


def text(
    value: Any,
    path: Path,
    problems: Problems,
    *,
    required: bool = True,
    max_length: int = MAX_TEXT,
    number_ok: bool = False,
) -> str | None:
    """A string, else a problem and None; ``number_ok``: a whole number is taken as text
    (ids that one vendor version writes as numbers and the next as strings)."""
    if value is None:
        if required:
            problems.add(path, REQUIRED)
        return None
    if number_ok and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        problems.add(path, "Expected text.")
        return None
    if len(value) > max_length:
        problems.add(path, f"At most {max_length} characters.")
        return None
    if "\x00" in value:
        problems.add(path, "Null characters are not allowed.")
        return None
    return value


def instant(
    value: Any, path: Path, problems: Problems, *, required: bool = True
) -> datetime | None:
    """An ISO 8601 timestamp with an offset (``+02:00`` or ``+0200``), in UTC, else a problem."""
    if value is None:
        if required:
            problems.add(path, REQUIRED)
        return None
    try:
        return parse_timestamp(value)
    except ValidationError as exc:
        for message in exc.messages:
            problems.add(path, message)
        return None


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()

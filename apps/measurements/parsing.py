"""Ingestion, part 1: from decoded items (JSON values or CSV cells) to clean rows.

The REST API and the CSV import hand items here undecoded: ids and numbers may
arrive as text, timestamps always as ISO 8601 text (``apps.core.timestamps``
owns that rule). Every item is checked in Python, with one query per referenced
model, and every problem is reported by item index; ``apps.measurements.ingestion``
writes only a clean batch.

A ticket's pauses are stored as sent. They may overlap (the SLA clock counts
their union once) and may run past the resolution (the clock has stopped by
then); a pause that starts before the ticket was opened, or does not end after
it starts, is an error (docs/DESIGN.md §3).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from apps.agreements.models import Service
from apps.core.timestamps import parse_timestamp
from apps.core.validators import key_validator
from apps.measurements.models import OutageCause, OutageKind, PauseReason
from apps.parties.models import Party, PartyKind

REQUIRED = "This field is required."
MAX_ID = 2**63 - 1
MAX_COUNT = 2**31 - 1
CUSTOMER_KINDS = frozenset({PartyKind.CUSTOMER, PartyKind.INTERNAL})
REQUIRED_FIELD = object()  # a Spec default: the field must be given

ItemErrors = dict[str, Any]  # field -> [messages]; "pauses" -> {index: {field: [messages]}}


class IngestionError(Exception):
    """A batch was refused and nothing was written.

    ``items`` maps the index of each bad item to its field messages, e.g.
    ``{3: {"opened_at": ["..."], "pauses": {"0": {"end": ["..."]}}}}``;
    ``general`` holds problems of the batch as a whole.
    """

    def __init__(self, items: dict[int, ItemErrors], general: Sequence[str] = ()) -> None:
        super().__init__(f"{len(items)} bad item(s); {' '.join(general)}".strip())
        self.items = items
        self.general = list(general)


# --- values -------------------------------------------------------------------


def _text(max_length: int | None = None, *, blank: bool = True) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError("Expected text.")
        text = str(value).strip()
        if not text and not blank:
            raise ValidationError("This field may not be blank.")
        if max_length is not None and len(text) > max_length:
            raise ValidationError(f"At most {max_length} characters.")
        if "\x00" in text:
            raise ValidationError("Null characters are not allowed.")
        return text

    return parse


_external_id = _text(128, blank=False)


def _whole_number(value: Any, maximum: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value)
    else:
        raise ValidationError("Expected a whole number.")
    if not 0 <= number <= maximum:
        raise ValidationError(f"Must be between 0 and {maximum}.")
    return number


def _pk(value: Any) -> int:
    return _whole_number(value, MAX_ID)


def _count(value: Any) -> int:
    return _whole_number(value, MAX_COUNT)


def _finite(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError("Expected a number.")
    try:
        number = float(value)
    except (ValueError, OverflowError) as exc:
        raise ValidationError("Expected a number.") from exc
    if not math.isfinite(number):
        raise ValidationError("Must be a finite number.")
    return number


def _metric(value: Any) -> str:
    text = _text(63, blank=False)(value)
    key_validator(text)
    return text


def _choice(choices: type[models.TextChoices]) -> Callable[[Any], str]:
    allowed = frozenset(choices.values)

    def parse(value: Any) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise ValidationError(f"{value!r} is not one of: {', '.join(sorted(allowed))}.")
        return value

    return parse


_pause_reason = _choice(PauseReason)


# --- items --------------------------------------------------------------------


class _Item:
    """One item being cleaned: the values taken so far and the messages per field."""

    def __init__(self, raw: Any) -> None:
        self.raw: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        self.values: dict[str, Any] = {}
        self.errors: ItemErrors = {}
        self.is_object = isinstance(raw, Mapping)
        if not self.is_object:
            self.errors["non_field_errors"] = ["Expected an object."]

    def take(self, name: str, parse: Callable[[Any], Any], default: Any = REQUIRED_FIELD) -> None:
        if not self.is_object:
            return
        value = self.raw.get(name)
        if value is None:
            if default is REQUIRED_FIELD:
                self.add(name, REQUIRED)
            else:
                self.values[name] = default
            return
        try:
            self.values[name] = parse(value)
        except ValidationError as exc:
            self.add(name, *exc.messages)

    def refuse_unknown(self, known: frozenset[str]) -> None:
        for name in sorted(set(self.raw) - known, key=str):
            self.add(str(name)[:64], "Unknown field.")

    def add(self, name: str, *messages: str) -> None:
        self.errors.setdefault(name, []).extend(messages)

    def not_before(self, name: str, earlier: str, message: str, *, strict: bool = False) -> None:
        """Flag ``name`` when it lies before (or, strict, not after) ``earlier``."""
        late, early = self.values.get(name), self.values.get(earlier)
        if late is not None and early is not None and (late <= early if strict else late < early):
            self.add(name, message)


PAUSE_FIELDS = frozenset({"start", "end", "reason"})


def _clean_pauses(item: _Item) -> None:
    raw = item.raw.get("pauses")
    item.values["pauses"] = []
    if raw is None:
        return
    if not isinstance(raw, list):
        item.add("pauses", "Expected a list of {start, end, reason}.")
        return
    problems: dict[str, ItemErrors] = {}
    for index, entry in enumerate(raw):
        pause = _Item(entry)
        pause.refuse_unknown(PAUSE_FIELDS)
        pause.take("start", parse_timestamp)
        pause.take("end", parse_timestamp, None)
        pause.take("reason", _pause_reason, PauseReason.WAITING_CUSTOMER.value)
        pause.not_before("end", "start", "Must be after start.", strict=True)
        opened = item.values.get("opened_at")
        start = pause.values.get("start")
        if opened is not None and start is not None and start < opened:
            pause.add("start", "Must not be before the ticket's opened_at.")
        if pause.errors:
            problems[str(index)] = pause.errors
        item.values["pauses"].append(pause.values)
    if problems:
        item.errors["pauses"] = problems


Spec = dict[str, tuple[Callable[[Any], Any], Any]]  # field -> (parser, default or REQUIRED_FIELD)

TICKET_SPEC: Spec = {
    "external_id": (_external_id, REQUIRED_FIELD),
    "service": (_pk, None),
    "customer": (_pk, None),
    "priority": (_text(16), ""),
    "opened_at": (parse_timestamp, REQUIRED_FIELD),
    "first_response_at": (parse_timestamp, None),
    "resolved_at": (parse_timestamp, None),
    "closed_at": (parse_timestamp, None),
    "contacts": (_count, 1),
}
OUTAGE_SPEC: Spec = {
    "external_id": (_external_id, REQUIRED_FIELD),
    "service": (_pk, REQUIRED_FIELD),
    "customer": (_pk, None),
    "start": (parse_timestamp, REQUIRED_FIELD),
    "end": (parse_timestamp, None),
    "kind": (_choice(OutageKind), OutageKind.UNPLANNED.value),
    "cause": (_choice(OutageCause), OutageCause.PROVIDER.value),
    "description": (_text(), ""),
}
SAMPLE_SPEC: Spec = {
    "external_id": (_external_id, REQUIRED_FIELD),
    "service": (_pk, REQUIRED_FIELD),
    "customer": (_pk, None),
    "metric": (_metric, REQUIRED_FIELD),
    "at": (parse_timestamp, REQUIRED_FIELD),
    "value": (_finite, REQUIRED_FIELD),
}


class Cleaner:
    """Cleans items of ``spec`` (plus the fields ``also`` that ``check`` reads); any other
    field is refused, so a misspelt field never silently vanishes.

    ``quick`` takes a plainly good item in one pass with the same parsers and rules
    and no error bookkeeping; it gives up (None) at the first doubt, and ``full`` then
    cleans that item again and says what is wrong. So every item ends up exactly as
    ``full`` would have it; ``quick`` only makes the common case fast (a 1,000-ticket
    batch is most of a request's time otherwise).
    """

    def __init__(
        self,
        spec: Spec,
        check: Callable[[_Item], None] | None = None,
        *,
        also: Sequence[str] = (),
        quick_check: Callable[[dict[str, Any], Mapping[str, Any]], bool] | None = None,
    ) -> None:
        self.spec = spec
        self.check = check
        self.quick_check = quick_check
        self.known = frozenset(spec) | frozenset(also)
        self._fields = tuple((name, parse, default) for name, (parse, default) in spec.items())

    def full(self, raw: Any) -> _Item:
        item = _Item(raw)
        item.refuse_unknown(self.known)
        for name, parse, default in self._fields:
            item.take(name, parse, default)
        if self.check is not None:
            self.check(item)
        return item

    def quick(self, raw: Any) -> dict[str, Any] | None:
        if type(raw) is not dict or not self.known.issuperset(raw):
            return None
        values: dict[str, Any] = {}
        try:
            for name, parse, default in self._fields:
                value = raw.get(name)
                if value is not None:
                    values[name] = parse(value)
                elif default is REQUIRED_FIELD:
                    return None
                else:
                    values[name] = default
            if self.quick_check is not None and not self.quick_check(values, raw):
                return None
        except ValidationError:
            return None
        return values


_TICKET_LATER = ("first_response_at", "resolved_at", "closed_at")


def check_ticket(item: _Item) -> None:
    for name in _TICKET_LATER:
        item.not_before(name, "opened_at", "Must not be before opened_at.")
    _clean_pauses(item)


def quick_ticket(values: dict[str, Any], raw: Mapping[str, Any]) -> bool:
    """``check_ticket`` for ``Cleaner.quick``: False (or ValidationError) at the first doubt."""
    opened = values["opened_at"]
    for name in _TICKET_LATER:
        moment = values[name]
        if moment is not None and moment < opened:
            return False
    entries = raw.get("pauses")
    pauses: list[dict[str, Any]] = []
    values["pauses"] = pauses
    if entries is None:
        return True
    if type(entries) is not list:
        return False
    for entry in entries:
        if type(entry) is not dict or not PAUSE_FIELDS.issuperset(entry):
            return False
        start, end, reason = entry.get("start"), entry.get("end"), entry.get("reason")
        if start is None:
            return False
        start = parse_timestamp(start)
        end = None if end is None else parse_timestamp(end)
        reason = PauseReason.WAITING_CUSTOMER.value if reason is None else _pause_reason(reason)
        if start < opened or (end is not None and end <= start):
            return False
        pauses.append({"start": start, "end": end, "reason": reason})
    return True


def check_outage(item: _Item) -> None:
    item.not_before("end", "start", "Must be after start.", strict=True)


def quick_outage(values: dict[str, Any], raw: Mapping[str, Any]) -> bool:
    return values["end"] is None or values["end"] > values["start"]


def _check_references(rows: Sequence[Mapping[str, Any]]) -> dict[int, ItemErrors]:
    """Unknown services and parties, and parties that are not customers: two queries."""
    service_ids = {row["service"] for row in rows if row.get("service") is not None}
    party_ids = {row["customer"] for row in rows if row.get("customer") is not None}
    services = set(
        Service.objects.filter(pk__in=service_ids).order_by().values_list("pk", flat=True)
    )
    kinds = dict(Party.objects.filter(pk__in=party_ids).order_by().values_list("pk", "kind"))
    customers_only = all(kind in CUSTOMER_KINDS for kind in kinds.values())
    if services == service_ids and set(kinds) == party_ids and customers_only:
        return {}  # the usual case: nothing to report, no loop over the rows
    errors: dict[int, ItemErrors] = {}
    for index, row in enumerate(rows):
        service, customer = row.get("service"), row.get("customer")
        problems: ItemErrors = {}
        if service is not None and service not in services:
            problems["service"] = [f"No service with id {service}."]
        if customer is not None and customer not in kinds:
            problems["customer"] = [f"No party with id {customer}."]
        elif customer is not None and kinds[customer] not in CUSTOMER_KINDS:
            problems["customer"] = [
                f"Party {customer} is a {kinds[customer]}; measurements belong to a customer "
                "or an internal department."
            ]
        if problems:
            errors[index] = problems
    return errors


def _check_duplicates(
    rows: Sequence[Mapping[str, Any]], names: Sequence[str], errors: dict[int, ItemErrors]
) -> None:
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        key = row.get("external_id")
        if key is None:
            continue
        earlier = first.setdefault(key, index)
        if earlier != index:
            for at, other in ((index, earlier), (earlier, index)):
                message = f"{key!r} is also given in {names[other]}."
                errors.setdefault(at, {}).setdefault("external_id", []).append(message)


def clean_batch(
    items: Sequence[Any], clean: Cleaner, names: Sequence[str] | None
) -> list[dict[str, Any]]:
    """Every item cleaned, or IngestionError with the messages of every bad one."""
    rows: list[dict[str, Any]] = []
    errors: dict[int, ItemErrors] = {}
    quick, full = clean.quick, clean.full
    for index, raw in enumerate(items):
        values = quick(raw)
        if values is None:
            item = full(raw)
            values = item.values
            if item.errors:
                errors[index] = item.errors
        rows.append(values)
    for index, problems in (_check_references(rows) or {}).items():
        for name, messages in problems.items():
            errors.setdefault(index, {}).setdefault(name, []).extend(messages)
    _check_duplicates(rows, names or [f"item {index}" for index in range(len(rows))], errors)
    if errors:
        raise IngestionError(dict(sorted(errors.items())))
    return rows

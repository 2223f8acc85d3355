"""Ingestion of measurements (tickets with pauses, outages, samples): the rules.

The REST API (``api_ingestion``) and the CSV import (``csv_import``) hand their
items here as decoded values: JSON values or CSV cells, so ids and numbers may
arrive as text and timestamps always arrive as ISO 8601 text.

- An item is the whole state of one measurement, keyed by ``external_id``: a
  repeat replaces every field (a ticket's pauses by the new list; no
  ``pauses`` means none) and never duplicates. Exclusion decisions survive it.
- Timestamps need a UTC offset; naive or impossible ones are refused.
- A batch is all or nothing. Every item is checked first, in Python, with one
  query per referenced model; every problem is reported by item index; only a
  clean batch is written, with one ``INSERT … SELECT FROM UNNEST(arrays) ON
  CONFLICT (external_id) DO UPDATE … RETURNING`` (plus one DELETE and one
  INSERT for a ticket batch's pauses). Rows go in sorted by ``external_id``,
  so concurrent batches lock rows in the same order and cannot deadlock.

The reads at the end (``*_list_visible``) belong with the selectors; they sit
here while this module is the only one that knows the measurement scoping.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction

from apps.agreements.models import Service
from apps.metrics.measurements import (
    Outage,
    OutageCause,
    OutageKind,
    PauseReason,
    Sample,
    Ticket,
    TicketPause,
)
from apps.metrics.models import key_validator
from apps.parties.models import Party, PartyKind
from apps.parties.selectors import (
    User,
    is_provider_staff,
)

NAIVE_TIMESTAMP = "Timestamps need a UTC offset, e.g. 2026-10-01T09:00:00+02:00."
REQUIRED = "This field is required."
MAX_ID = 2**63 - 1
MAX_COUNT = 2**31 - 1
CUSTOMER_KINDS = frozenset({PartyKind.CUSTOMER, PartyKind.INTERNAL})
# Exclusion columns a new row starts with; a repeat never touches them.
EXCLUSION_DEFAULTS = {
    "excluded": "false",
    "exclusion_reason": "''",
    "excluded_by_id": "NULL",
    "excluded_at": "NULL",
}
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


@dataclass(frozen=True)
class IngestResult:
    created: int
    updated: int
    ids: list[int]  # primary keys in item order


# --- values -------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime:
    """An aware datetime from ISO 8601 text with an offset; ValidationError otherwise."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValidationError(f"Not a valid ISO 8601 timestamp ({exc}).") from exc
    else:
        raise ValidationError("Expected an ISO 8601 timestamp, e.g. 2026-10-01T09:00:00+02:00.")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(NAIVE_TIMESTAMP)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValidationError("Out of the supported range (years 1 to 9999 in UTC).") from exc


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

    def add(self, name: str, *messages: str) -> None:
        self.errors.setdefault(name, []).extend(messages)

    def not_before(self, name: str, earlier: str, message: str, *, strict: bool = False) -> None:
        """Flag ``name`` when it lies before (or, strict, not after) ``earlier``."""
        late, early = self.values.get(name), self.values.get(earlier)
        if late is not None and early is not None and (late <= early if strict else late < early):
            self.add(name, message)


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
        pause.take("start", parse_timestamp)
        pause.take("end", parse_timestamp, None)
        pause.take("reason", _pause_reason, PauseReason.WAITING_CUSTOMER.value)
        pause.not_before("end", "start", "Must be after start.", strict=True)
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


def _cleaner(spec: Spec, check: Callable[[_Item], None] | None = None) -> Callable[[Any], _Item]:
    def clean(raw: Any) -> _Item:
        item = _Item(raw)
        for name, (parse, default) in spec.items():
            item.take(name, parse, default)
        if check is not None:
            check(item)
        return item

    return clean


def _check_ticket(item: _Item) -> None:
    for name in ("first_response_at", "resolved_at", "closed_at"):
        item.not_before(name, "opened_at", "Must not be before opened_at.")
    _clean_pauses(item)


def _check_outage(item: _Item) -> None:
    item.not_before("end", "start", "Must be after start.", strict=True)


def _check_references(items: list[_Item]) -> None:
    """Unknown services and parties, and parties that are not customers: two queries."""
    service_ids = {item.values["service"] for item in items if item.values.get("service")}
    party_ids = {item.values["customer"] for item in items if item.values.get("customer")}
    services = set(
        Service.objects.filter(pk__in=service_ids).order_by().values_list("pk", flat=True)
    )
    kinds = dict(Party.objects.filter(pk__in=party_ids).order_by().values_list("pk", "kind"))
    for item in items:
        service, customer = item.values.get("service"), item.values.get("customer")
        if service is not None and service not in services:
            item.add("service", f"No service with id {service}.")
        if customer is not None and customer not in kinds:
            item.add("customer", f"No party with id {customer}.")
        elif customer is not None and kinds[customer] not in CUSTOMER_KINDS:
            item.add(
                "customer",
                f"Party {customer} is a {kinds[customer]}; measurements belong to a customer "
                "or an internal department.",
            )


def _check_duplicates(items: list[_Item], names: Sequence[str]) -> None:
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        key = item.values.get("external_id")
        if key is None:
            continue
        if key in first:
            item.add("external_id", f"{key!r} is also given in {names[first[key]]}.")
            items[first[key]].add("external_id", f"{key!r} is also given in {names[index]}.")
        else:
            first[key] = index


def _clean_batch(
    items: Sequence[Any], clean: Callable[[Any], _Item], names: Sequence[str] | None
) -> list[dict[str, Any]]:
    cleaned = [clean(raw) for raw in items]
    _check_references(cleaned)
    _check_duplicates(cleaned, names or [f"item {index}" for index in range(len(cleaned))])
    errors = {index: item.errors for index, item in enumerate(cleaned) if item.errors}
    if errors:
        raise IngestionError(errors)
    return [item.values for item in cleaned]


# --- writes -------------------------------------------------------------------


def _unnest(model: type[models.Model], fields: Sequence[str]) -> tuple[list[str], str]:
    """The columns of ``fields`` and ``UNNEST(%b::type[], …)`` taking one array per field.

    One array parameter per column keeps the statement short whatever the batch
    size, unlike a VALUES row per item; ``%b`` sends it in PostgreSQL's binary
    format, cheaper to build than the quoted text form.
    """
    columns, arrays = [], []
    for name in fields:
        field = model._meta.get_field(name)
        columns.append(connection.ops.quote_name(field.column))
        arrays.append(f"%b::{field.db_type(connection)}[]")
    return columns, f"UNNEST({', '.join(arrays)})"


def _execute(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run one statement with server-side binding, so psycopg sends the ``%b`` arrays in
    PostgreSQL's binary format; Django's cursor binds client-side and would quote every
    element as text (most of a 1,000-ticket batch's time). The Django cursor opened
    first sets the tenant's search_path; the statement runs in the same transaction,
    but Django's query log does not see it."""
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        psycopg.Cursor(cursor.connection) as raw,
    ):
        raw.execute(sql, params, prepare=False)  # as Django's cursors: never prepared
        return raw.fetchall() if raw.description else []


def _upsert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    *,
    insert_only: Mapping[str, str],
    touch: bool,
) -> list[tuple[int, bool]]:
    """INSERT … ON CONFLICT (external_id) DO UPDATE; (pk, created) per row, in row order."""
    quote = connection.ops.quote_name
    columns, unnest = _unnest(model, fields)
    updated = [c for c in columns if c != quote("external_id")]
    extra_columns = ([quote("updated_at")] if touch else []) + list(map(quote, insert_only))
    extra_values = (["now()"] if touch else []) + list(insert_only.values())
    updated += [quote("updated_at")] if touch else []
    ordered = sorted(rows, key=lambda row: row["external_id"])  # one lock order for all
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns + extra_columns)}) "
        f"SELECT {', '.join(['item.*', *extra_values])} FROM {unnest} AS item "
        f"ON CONFLICT ({quote('external_id')}) DO UPDATE SET "
        + ", ".join(f"{column} = EXCLUDED.{column}" for column in updated)
        + f" RETURNING {quote('external_id')}, {quote(model._meta.pk.column)}, (xmax = 0)"
    )
    returned = _execute(sql, [[row[name] for row in ordered] for name in fields])
    found = {external_id: (pk, created) for external_id, pk, created in returned}
    return [found[row["external_id"]] for row in rows]


def _insert_pauses(written: list[tuple[int, bool]], rows: Sequence[Mapping[str, Any]]) -> None:
    """Replace the pauses of updated tickets, insert those of new ones: two statements."""
    table = connection.ops.quote_name(TicketPause._meta.db_table)
    updated = [pk for pk, created in written if not created]
    fields = ("ticket", "start", "end", "reason")
    pauses = [
        (pk, pause["start"], pause["end"], pause["reason"])
        for (pk, _), row in zip(written, rows, strict=True)
        for pause in row["pauses"]
    ]
    if updated:
        _execute(f"DELETE FROM {table} WHERE ticket_id = ANY(%b)", [updated])
    if pauses:
        columns, unnest = _unnest(TicketPause, fields)
        _execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM {unnest}",
            [list(values) for values in zip(*pauses, strict=True)],
        )


def _write(work: Callable[[], list[tuple[int, bool]]]) -> IngestResult:
    """Run the writes in a savepoint; a constraint the checks did not foresee is a 400."""
    try:
        with transaction.atomic():
            written = work()
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: check them now,
            # inside the savepoint, rather than at the request's COMMIT (a 500 there).
            connection.check_constraints()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        raise IngestionError(
            {},
            [
                f"The database refused the batch (constraint {constraint or 'unknown'}), "
                "probably because a referenced row changed meanwhile; nothing was written."
            ],
        ) from exc
    created = sum(1 for _, was_created in written if was_created)
    return IngestResult(created, len(written) - created, [pk for pk, _ in written])


def _require_staff(acting_user: User) -> None:
    if not is_provider_staff(acting_user):
        raise PermissionDenied("Only provider staff may send measurements.")


def ticket_ingest(
    *, items: Sequence[Any], acting_user: User, item_names: Sequence[str] | None = None
) -> IngestResult:
    """Upsert tickets and replace their pauses; all or nothing (IngestionError).

    ``item_names`` names the items in messages that point at another item
    (default "item <index>"; the CSV import passes "line <n>").
    """
    _require_staff(acting_user)
    rows = _clean_batch(items, _cleaner(TICKET_SPEC, _check_ticket), item_names)

    def work() -> list[tuple[int, bool]]:
        written = _upsert(
            Ticket, tuple(TICKET_SPEC), rows, insert_only=EXCLUSION_DEFAULTS, touch=True
        )
        _insert_pauses(written, rows)
        return written

    return _write(work)


def outage_ingest(
    *, items: Sequence[Any], acting_user: User, item_names: Sequence[str] | None = None
) -> IngestResult:
    """Upsert outages; all or nothing (IngestionError)."""
    _require_staff(acting_user)
    rows = _clean_batch(items, _cleaner(OUTAGE_SPEC, _check_outage), item_names)
    return _write(
        lambda: _upsert(
            Outage, tuple(OUTAGE_SPEC), rows, insert_only=EXCLUSION_DEFAULTS, touch=True
        )
    )


def sample_ingest(
    *, items: Sequence[Any], acting_user: User, item_names: Sequence[str] | None = None
) -> IngestResult:
    """Upsert samples; all or nothing (IngestionError)."""
    _require_staff(acting_user)
    rows = _clean_batch(items, _cleaner(SAMPLE_SPEC), item_names)
    return _write(lambda: _upsert(Sample, tuple(SAMPLE_SPEC), rows, insert_only={}, touch=False))

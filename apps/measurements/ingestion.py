"""Ingestion, part 2: write a clean batch of tickets, outages or samples in one statement each.

Items are cleaned by ``apps.measurements.parsing`` first; only a clean batch is
written, with one ``INSERT … SELECT FROM UNNEST(arrays) ON CONFLICT (external_id)
DO UPDATE … RETURNING`` (plus, for a ticket batch's pauses, one DELETE of the
replaced ones and one binary ``COPY``). An item is the whole state of one
measurement, keyed by ``external_id``: a repeat replaces every field (a ticket's
pauses by the new list; no ``pauses`` means none) and never duplicates; exclusion
decisions survive it. Rows go in sorted by ``external_id``, so concurrent batches
lock rows in the same order and cannot deadlock. A batch is all or nothing.

Why not COPY into a staging table and one merge for the measurements too: measured
(docs/PERFORMANCE.md, "Bulk ticket ingestion"), the UNNEST upsert costs the server
about what a bare COPY into the same table does — the indexes and foreign-key checks
are most of it — and it returns ids and created/updated in the same statement; a
staging table adds its own COPY, a second statement and its truncation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, models, transaction

from apps.core.access import User, is_provider_staff
from apps.measurements.models import Outage, Sample, Ticket, TicketPause
from apps.measurements.parsing import (
    OUTAGE_SPEC,
    SAMPLE_SPEC,
    TICKET_SPEC,
    Cleaner,
    IngestionError,
    check_outage,
    check_ticket,
    clean_batch,
    quick_outage,
    quick_ticket,
)

# Exclusion columns a new row starts with; a repeat never touches them.
EXCLUSION_DEFAULTS = {
    "excluded": "false",
    "exclusion_reason": "''",
    "excluded_by_id": "NULL",
    "excluded_at": "NULL",
}

TICKETS = Cleaner(TICKET_SPEC, check_ticket, also=["pauses"], quick_check=quick_ticket)
OUTAGES = Cleaner(OUTAGE_SPEC, check_outage, quick_check=quick_outage)
SAMPLES = Cleaner(SAMPLE_SPEC)


@dataclass(frozen=True)
class IngestResult:
    created: int
    updated: int
    ids: list[int]  # primary keys in item order


def _unnest(model: type[models.Model], fields: Sequence[str]) -> tuple[list[str], str]:
    """The columns of ``fields`` and ``UNNEST(%b::type[], …)`` taking one array per field.

    One array parameter per column keeps the statement short whatever the batch
    size, unlike a VALUES row per item; ``%b`` sends it in PostgreSQL's binary
    format, cheaper to build than the quoted text form.
    """
    columns, arrays = [], []
    for name in fields:
        field = model._meta.get_field(name)
        column = field.column if isinstance(field, models.Field) else None
        assert column is not None  # a concrete column, not a reverse relation
        columns.append(connection.ops.quote_name(column))
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


def _copy(sql: str, types: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``COPY … FROM STDIN (FORMAT BINARY)`` on the raw psycopg cursor, for rows that are
    plain inserts (a ticket batch's pauses): the cheapest way in for both sides, since
    psycopg formats the rows in C and PostgreSQL inserts them in bulk."""
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        psycopg.Cursor(cursor.connection) as raw,
        raw.copy(sql) as copy,
    ):
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


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
        + f" RETURNING {quote('external_id')}, {quote(model._meta.pk.attname)}, (xmax = 0)"
    )
    returned = _execute(sql, [[row[name] for row in ordered] for name in fields])
    found = {external_id: (pk, created) for external_id, pk, created in returned}
    return [found[row["external_id"]] for row in rows]


PAUSE_COLUMNS = ("ticket", "start", "end", "reason")
PAUSE_COPY_TYPES = ("int8", "timestamptz", "timestamptz", "varchar")  # of PAUSE_COLUMNS


def _insert_pauses(written: list[tuple[int, bool]], rows: Sequence[Mapping[str, Any]]) -> None:
    """Replace the pauses of updated tickets, insert those of new ones: a DELETE (only
    when some ticket was there before) and a COPY."""
    quote = connection.ops.quote_name
    table = quote(TicketPause._meta.db_table)
    updated = [pk for pk, created in written if not created]
    if updated:
        _execute(f"DELETE FROM {table} WHERE ticket_id = ANY(%b)", [updated])
    columns, _ = _unnest(TicketPause, PAUSE_COLUMNS)
    pauses = [
        (pk, pause["start"], pause["end"], pause["reason"])
        for (pk, _), row in zip(written, rows, strict=True)
        for pause in row["pauses"]
    ]
    if pauses:
        _copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)",
            PAUSE_COPY_TYPES,
            pauses,
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
    rows = clean_batch(items, TICKETS, item_names)

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
    rows = clean_batch(items, OUTAGES, item_names)
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
    rows = clean_batch(items, SAMPLES, item_names)
    return _write(lambda: _upsert(Sample, tuple(SAMPLE_SPEC), rows, insert_only={}, touch=False))

"""CSV import of tickets, outages and samples through the ingestion services.

The file format (shown on the admin's import page):

- UTF-8 text (a byte-order mark is fine), a header row, then one row per item;
  comma- or semicolon-separated (told apart by the header row).
- Columns are the JSON field names of the API; their order is free. Blank
  cells mean "not given": the field's default (null, "", 1 contact …).
- Timestamps are ISO 8601 with a UTC offset, e.g. 2026-10-01T09:00:00+02:00.
- A ticket's pauses go into one ``pauses`` cell as ``start/end/reason``
  separated by ``;``, e.g. ``2026-10-01T10:00+02:00/2026-10-01T11:00+02:00/waiting_customer``;
  ``end`` may be blank (still paused) and ``/reason`` left out (waiting_customer).

The whole file is one batch: any bad row and nothing is written, and every
bad row is reported with its line number and its field messages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from apps.core.access import User
from apps.measurements.ingestion import IngestResult, outage_ingest, sample_ingest, ticket_ingest
from apps.measurements.models import Outage, Sample, Ticket
from apps.measurements.parsing import (
    OUTAGE_SPEC,
    REQUIRED_FIELD,
    SAMPLE_SPEC,
    TICKET_SPEC,
    IngestionError,
    ItemErrors,
    Spec,
)

MAX_ROWS = 50_000
MAX_CELL = 10_000  # characters; far below csv.field_size_limit() (131,072)


@dataclass(frozen=True)
class CsvKind:
    """One importable kind of measurement: its columns and its ingestion service."""

    name: str
    model: type[models.Model]
    spec: Spec
    ingest: Callable[..., IngestResult]
    example: dict[str, str]

    @property
    def columns(self) -> list[str]:
        return [*self.spec, "pauses"] if self.name == "tickets" else list(self.spec)

    @property
    def required(self) -> list[str]:
        return [name for name, (_, default) in self.spec.items() if default is REQUIRED_FIELD]


KINDS: dict[str, CsvKind] = {
    kind.name: kind
    for kind in (
        CsvKind(
            "tickets",
            Ticket,
            TICKET_SPEC,
            ticket_ingest,
            {
                "external_id": "INC-1001",
                "priority": "P1",
                "opened_at": "2026-10-01T09:00:00+02:00",
                "first_response_at": "2026-10-01T09:20:00+02:00",
                "resolved_at": "2026-10-01T16:00:00+02:00",
                "contacts": "1",
                "pauses": "2026-10-01T10:00:00+02:00/2026-10-01T11:30:00+02:00/waiting_customer",
            },
        ),
        CsvKind(
            "outages",
            Outage,
            OUTAGE_SPEC,
            outage_ingest,
            {
                "external_id": "OUT-17",
                "start": "2026-10-03T01:00:00+00:00",
                "end": "2026-10-03T01:45:00+00:00",
                "kind": "unplanned",
                "cause": "provider",
                "description": "Storage failover",
            },
        ),
        CsvKind(
            "samples",
            Sample,
            SAMPLE_SPEC,
            sample_ingest,
            {
                "external_id": "LAT-2026-10-03T12",
                "metric": "latency_ms",
                "at": "2026-10-03T12:00:00+00:00",
                "value": "182.5",
            },
        ),
    )
}


@dataclass(frozen=True)
class RowProblem:
    line: int  # 1 is the header row
    messages: list[str]


class CsvImportError(Exception):
    """The file was refused and nothing was written; ``problems`` are sorted by line."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = sorted(problems, key=lambda problem: problem.line)


def csv_template(kind: str, *, service_id: int | None = None) -> str:
    """A header row and one example row for ``kind``."""
    spec = KINDS[kind]
    example = {**spec.example, "service": "" if service_id is None else str(service_id)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(spec.columns)
    writer.writerow([example.get(column, "") for column in spec.columns])
    return out.getvalue()


def parse_pauses(cell: str) -> list[dict[str, str | None]]:
    """``start/end/reason;…`` -> pause items (checked by the ingestion service)."""
    pauses: list[dict[str, str | None]] = []
    for segment in cell.split(";"):
        if not segment.strip():
            continue
        start, _, rest = segment.partition("/")
        end, _, reason = rest.partition("/")
        pauses.append(
            {
                "start": start.strip(),
                "end": end.strip() or None,
                "reason": reason.strip() or None,
            }
        )
    return pauses


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvImportError(
            [RowProblem(1, ["The file is not UTF-8 text; save it as 'CSV UTF-8'."])]
        ) from exc


def _header(row: list[str], kind: CsvKind) -> list[str]:
    columns = [cell.strip().lower() for cell in row]
    problems = []
    unknown = [column for column in columns if column not in kind.columns]
    if unknown:
        problems.append(
            f"Unknown column(s) {', '.join(unknown)}; expected {', '.join(kind.columns)}."
        )
    duplicates = sorted({column for column in columns if columns.count(column) > 1})
    if duplicates:
        problems.append(f"Column(s) given twice: {', '.join(duplicates)}.")
    missing = [column for column in kind.required if column not in columns]
    if missing:
        problems.append(f"Missing required column(s): {', '.join(missing)}.")
    if problems:
        raise CsvImportError([RowProblem(1, problems)])
    return columns


def _rows(text: str, kind: CsvKind) -> tuple[list[dict[str, Any]], list[int], list[RowProblem]]:
    """Items, the line each starts on, and problems of the rows' shape."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = _header(next(reader), kind)
    except StopIteration:
        raise CsvImportError([RowProblem(1, ["The file is empty."])]) from None
    except csv.Error as exc:
        raise CsvImportError([RowProblem(1, [f"Not a readable CSV header ({exc})."])]) from None
    items: list[dict[str, Any]] = []
    lines: list[int] = []
    problems: list[RowProblem] = []
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a cell longer than csv.field_size_limit()
            raise CsvImportError([RowProblem(line, [f"Not readable as CSV: {exc}."])]) from None
        start, line = line, reader.line_num + 1
        if any(len(cell) > MAX_CELL for cell in row):
            problems.append(RowProblem(start, [f"A cell holds more than {MAX_CELL} characters."]))
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(items) >= MAX_ROWS:
            raise CsvImportError([RowProblem(start, [f"At most {MAX_ROWS} rows per file."])])
        if len(row) > len(columns):
            problems.append(RowProblem(start, [f"{len(row)} cells but {len(columns)} columns."]))
        item: dict[str, Any] = {
            column: cell.strip() for column, cell in zip(columns, row, strict=False) if cell.strip()
        }
        if "pauses" in item:
            item["pauses"] = parse_pauses(item["pauses"])
        items.append(item)
        lines.append(start)
    return items, lines, problems


def _messages(errors: ItemErrors) -> list[str]:
    messages = []
    for field, value in errors.items():
        if field == "pauses" and isinstance(value, dict):
            for index, pause_errors in value.items():
                for name, texts in pause_errors.items():
                    messages += [f"pauses: pause {int(index) + 1}: {name}: {t}" for t in texts]
        else:
            prefix = "" if field == "non_field_errors" else f"{field}: "
            messages += [f"{prefix}{text}" for text in value]
    return messages


def csv_import(*, kind: str, data: bytes, acting_user: User) -> IngestResult:
    """Import a CSV file of ``kind`` (tickets, outages, samples) as one batch."""
    spec = KINDS[kind]
    items, lines, problems = _rows(_decode(data), spec)
    with transaction.atomic():
        try:
            result = spec.ingest(
                items=items, acting_user=acting_user, item_names=[f"line {n}" for n in lines]
            )
        except IngestionError as exc:
            problems += [RowProblem(lines[i], _messages(e)) for i, e in exc.items.items()]
            problems += [RowProblem(1, exc.general)] if exc.general else []
        if problems:
            # Raised inside the savepoint: rows written despite a bad row shape are undone.
            raise CsvImportError(problems)
    return result

"""Instants from the outside world: ISO 8601 text with a UTC offset, within a sane range.

One rule for every door (API fields, query parameters, CSV cells, ingestion):

- The text is ISO 8601 with an explicit offset (``Z`` or ``±HH:MM``); a naive
  timestamp is refused, never guessed.
- Offsets lie within ±14:00 (the widest any time zone uses; ISO 8601 practice).
- Instants lie in [1970-01-01, 2100-01-01) UTC. Contracts, tickets and outages
  outside that span are typing errors, and refusing them keeps every later
  computation (periods, the clock, year arithmetic) inside its range.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # exclusive
MAX_OFFSET = timedelta(hours=14)
NAIVE_TIMESTAMP = "Timestamps need a UTC offset, e.g. 2026-10-01T09:00:00+02:00."
OUT_OF_RANGE = "Must lie between 1970-01-01 and 2099-12-31 (UTC)."
MAX_LENGTH = 64
_SPACED_OFFSET = re.compile(r" (\d\d:?\d\d)$")
_from_iso = datetime.fromisoformat


def parse_timestamp(value: Any, *, keep_offset: bool = False) -> datetime:
    """An aware datetime (in UTC, or in the caller's offset) or a ValidationError.

    On the hot path of bulk ingestion (six per ticket), so written for speed: a text
    first, one comparison chain per bound, no conversion of what is already in UTC.
    """
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_LENGTH or not text.isascii():
            raise ValidationError("Not a valid ISO 8601 timestamp.")
        try:
            moment = _from_iso(text)
        except ValueError as exc:
            raise ValidationError(f"Not a valid ISO 8601 timestamp ({exc}).") from exc
    elif isinstance(value, datetime):
        moment = value
    else:
        raise ValidationError("Expected an ISO 8601 timestamp, e.g. 2026-10-01T09:00:00+02:00.")
    offset = moment.utcoffset()  # None when naive
    if offset is None:
        raise ValidationError(NAIVE_TIMESTAMP)
    if not -MAX_OFFSET <= offset <= MAX_OFFSET:
        raise ValidationError("The UTC offset must lie within ±14:00.")
    if moment.tzinfo is UTC:
        in_utc = moment
    else:
        try:
            in_utc = moment.astimezone(UTC)
        except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00
            raise ValidationError(OUT_OF_RANGE) from exc
    if not EARLIEST <= in_utc < LATEST:
        raise ValidationError(OUT_OF_RANGE)
    return moment if keep_offset else in_utc


class AwareDateTimeField(serializers.DateTimeField):
    """A DRF field for ``parse_timestamp``; the answer keeps the caller's offset."""

    def to_internal_value(self, value: Any) -> datetime:
        try:
            return parse_timestamp(value, keep_offset=True)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class AwareDateTimeFormField(forms.Field):
    """A form (and django-filter) field for ``parse_timestamp``.

    In a query string an unescaped ``+`` arrives as a space: ``…T09:00:00 02:00``
    is read as ``+02:00``.
    """

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        return parse_timestamp(_SPACED_OFFSET.sub(r"+\1", str(value).strip()))

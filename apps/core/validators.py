"""Validators shared by several apps."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

# Objective keys and custom sample metrics ("latency_ms"): stable machine names.
key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,62}\Z",
    "Lowercase letters, digits and underscores, starting with a letter.",
)


def validate_date_in_range(value: date) -> None:
    """Dates the product reasons about: 1970-01-01 to 2099-12-31 (apps.core.timestamps)."""
    if not date(1970, 1, 1) <= value <= date(2099, 12, 31):
        raise ValidationError("Must lie between 1970-01-01 and 2099-12-31.")

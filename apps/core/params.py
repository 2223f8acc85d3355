"""Whole numbers from query strings and forms, strictly ASCII.

``str.isdigit()`` is true for "²" and "٣", which ``int()`` then refuses or reads
as another number; every count, id and duration the product takes from a URL
goes through here instead.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

MAX_DIGITS = 18


def parse_whole_number(
    text: str | None, *, name: str, minimum: int = 0, maximum: int = 2**63 - 1
) -> int:
    """``text`` as an int in [minimum, maximum]; ValidationError({name: ...}) otherwise."""
    value = (text or "").strip()
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS):
        raise ValidationError({name: f"Give a whole number (e.g. {max(minimum, 1)})."})
    number = int(value)
    if not minimum <= number <= maximum:
        raise ValidationError({name: f"Must lie between {minimum} and {maximum}."})
    return number

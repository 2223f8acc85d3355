"""Formatting filters the report e-mails and the PDF use (and the portal, which registers
the same functions): durations, money, a dictionary look-up."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from apps.core.money import format_money_local
from apps.revisions.units import format_duration

register = template.Library()


@register.filter
def minutes(seconds: int | float | Decimal | None) -> str:
    """Seconds as a readable duration: "42 min", "4 h 05 min", "−1 h 05 min"."""
    return "–" if seconds is None else format_duration(seconds)


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    return "–" if amount is None else format_money_local(amount, currency)


@register.filter
def get(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key)

"""Formatting filters the report e-mails and the PDF use (and the portal, which registers
the same functions): durations, money, a dictionary look-up; figures kept on one line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.compliance.models import ResultStatus
from apps.core.money import format_money_local
from apps.reports import wording
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


@register.filter(is_safe=True, expects_localtime=True)
def nobreak(value: Any) -> str:
    """The value as ``{{ value }}`` shows it, with no-break spaces: "≥ 99.9 %" and
    "85.71 %" never split across two lines (a date may still break after its comma)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(formats.localize(value))
    return wording.nobreak(text)


@register.filter
def nowrap(value: Any) -> SafeString:
    """The value in a span that does not wrap ("2026-W48" would break at its hyphen)."""
    return format_html('<span style="white-space:nowrap;">{}</span>', value)


@register.filter
def status_label(status: str) -> str:
    """A result status in words ("missed" → "Missed"); adjustments keep the raw value."""
    return str(ResultStatus(status).label) if status in ResultStatus.values else status

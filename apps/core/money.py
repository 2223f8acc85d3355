"""Money: amounts in ``Decimal``, rounded half-up to the currency's minor unit (docs/DESIGN.md §3).

Every amount the product shows or stores goes through ``money_round``; text for
people through ``format_money``. See ``apps.core.currencies`` for the units.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

from apps.core.currencies import MINOR_UNITS


def minor_unit_exponent(currency: str) -> Decimal:
    """Decimal("0.01") for EUR, Decimal("1") for JPY, Decimal("0.001") for KWD."""
    try:
        digits = MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"Unknown currency '{currency}'.") from None
    return Decimal(1).scaleb(-digits)


def money_round(value: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit."""
    return value.quantize(minor_unit_exponent(currency), rounding=ROUND_HALF_UP)


def percent_of(value: Decimal, percent: Decimal, currency: str) -> Decimal:
    """``percent`` % of ``value``, rounded to the currency's minor unit: a credit's share of
    the fee, a cap; the one way every part of the product computes it."""
    return money_round(value * percent / 100, currency)


def money_text(value: Decimal, currency: str) -> str:
    """The rounded amount as plain text with exactly the minor-unit digits: "125.00"."""
    return str(money_round(value, currency))


def format_money(value: Decimal, currency: str) -> str:
    """The rounded amount with its currency code: "125.00 EUR"."""
    return f"{money_text(value, currency)} {currency}"


def format_money_local(value: Decimal, currency: str) -> str:
    """For people, in the active language: "1,200.00 EUR" (en), "1.200,00 EUR" (de)."""
    digits = MINOR_UNITS.get(currency, 2)
    text = number_format(money_round(value, currency), digits, use_l10n=True, force_grouping=True)
    return f"{text} {currency}"


def format_percent(value: Decimal) -> str:
    """A percentage without trailing zeros: "12.5 %"."""
    return f"{value.normalize():f} %"


def has_minor_unit_digits(value: Decimal, currency: str) -> bool:
    """Does ``value`` fit the currency's minor unit (no more decimals than it has)?"""
    exponent = value.normalize().as_tuple().exponent
    return not isinstance(exponent, int) or -exponent <= MINOR_UNITS.get(currency, 2)

"""A credit in words: which objective missed by how much, which tier it hit, what it earned.

Shared by the portal, the PDF and the e-mails, so a credit is explained the same
way everywhere, including the cases that earn nothing (no tier matched, no fee).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from apps.core.money import format_money_local, format_percent, percent_of
from apps.credits.models import CreditStatus, ServiceCredit
from apps.revisions.units import format_value


@dataclass(frozen=True)
class CreditLine:
    key: str
    attained: str
    target: str
    tier: str  # "below 99.5 %" or "" when no tier matched
    percent: str


def credit_lines(credit: ServiceCredit) -> list[CreditLine]:
    """One line per missed objective stored with the credit."""
    lines = []
    for item in credit.objectives:
        metric = item.get("metric", "")
        comparison = "≥" if item.get("comparison") == "gte" else "≤"
        below = item.get("below")
        attained = item.get("attained")
        tier = ""
        if below is not None:
            side = _("below") if item.get("comparison") == "gte" else _("above")
            tier = f"{side} {format_value(Decimal(below), metric)}"
        lines.append(
            CreditLine(
                key=item.get("key", ""),
                attained=format_value(Decimal(attained) if attained else None, metric),
                target=f"{comparison} {format_value(Decimal(item.get('target', '0')), metric)}",
                tier=tier,
                percent=format_percent(Decimal(item.get("percent", "0"))),
            )
        )
    return lines


def credit_summary(credit: ServiceCredit) -> str:
    """E.g. "10 % of 12,000.00 EUR = 1,200.00 EUR (capped at 30 %)"; after a dispute
    resolved at another amount: "… = 1,200.00 EUR; agreed in a dispute: 300.00 EUR (…)"."""
    calculated = percent_of(credit.fee_basis, credit.percent, credit.currency)
    text = _("%(percent)s of %(basis)s = %(amount)s") % {
        "percent": format_percent(credit.percent),
        "basis": format_money_local(credit.fee_basis, credit.currency),
        "amount": format_money_local(calculated, credit.currency),
    }
    if credit.uncapped_percent > credit.percent:
        text += " " + _("(capped at %(cap)s; uncapped %(uncapped)s)") % {
            "cap": format_percent(credit.cap_percent),
            "uncapped": format_percent(credit.uncapped_percent),
        }
    if credit.status in (CreditStatus.RESOLVED, CreditStatus.ISSUED) and credit.resolution:
        if credit.amount != calculated:
            text += "; " + _("agreed in a dispute: %(amount)s (%(resolution)s)") % {
                "amount": format_money_local(credit.amount, credit.currency),
                "resolution": credit.resolution,
            }
        else:
            text += " — " + _("agreed in a dispute: %(resolution)s") % {
                "resolution": credit.resolution
            }
    return text


def no_credit_reason(*, monthly_fee: Decimal | None, missed: int, ended: bool) -> str:
    """Why a period has no credit, in words, or "" when nothing needs explaining (no
    objective missed). For the period pages and reports, so a missed period never
    stands there without a word about money."""
    if not missed:
        return ""
    if not ended:
        return _("Credits are calculated once the period has ended.")
    if not monthly_fee:
        return _(
            "This agreement has no fee of its own, so its misses earn no credit here; where "
            "its objectives are inherited by other agreements, they earn credits on those "
            "agreements' fees."
        )
    return _(
        "No credit is owed: none of the missed objectives reached a tier of the credit "
        "schedule of the revision in force."
    )

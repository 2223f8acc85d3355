"""A period without a credit says why, so a missed month never stands there without a word."""

from __future__ import annotations

from decimal import Decimal

from apps.credits.explain import no_credit_reason


def test_nothing_to_explain_when_nothing_was_missed():
    assert no_credit_reason(monthly_fee=Decimal("1000"), missed=0, ended=True) == ""


def test_a_running_period_earns_its_credit_when_it_ends():
    reason = no_credit_reason(monthly_fee=Decimal("1000"), missed=2, ended=False)
    assert "once the period has ended" in reason


def test_an_agreement_without_a_fee_earns_nothing_itself():
    for fee in (None, Decimal("0")):
        reason = no_credit_reason(monthly_fee=fee, missed=1, ended=True)
        assert "no fee of its own" in reason and "inherited" in reason


def test_a_miss_that_reached_no_tier_says_so():
    reason = no_credit_reason(monthly_fee=Decimal("1000"), missed=1, ended=True)
    assert "none of the missed objectives reached a tier" in reason


def test_a_credit_resolved_at_another_amount_keeps_its_arithmetic_right():
    """After a dispute settled at 300.00 of a calculated 1,200.00, the summary must not
    read "10 % of 12,000.00 EUR = 300.00 EUR"."""
    from apps.credits.explain import credit_summary
    from apps.credits.models import CreditStatus, ServiceCredit

    credit = ServiceCredit(
        percent=Decimal("10"),
        uncapped_percent=Decimal("10"),
        cap_percent=Decimal("100"),
        fee_basis=Decimal("12000"),
        amount=Decimal("300.00"),
        currency="EUR",
        status=CreditStatus.RESOLVED,
        resolution="Half, as agreed.",
    )
    text = credit_summary(credit)
    assert "10 % of 12,000.00 EUR = 1,200.00 EUR" in text
    assert "agreed in a dispute: 300.00 EUR (Half, as agreed.)" in text

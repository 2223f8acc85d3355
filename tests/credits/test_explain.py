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

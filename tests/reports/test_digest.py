"""What the report e-mail adds: the verdict, the allowance each objective used, its record."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import translation
from django_tenants.utils import schema_context

from apps.calendars.periods import parse_period
from apps.compliance.models import ResultStatus
from apps.parties.models import Contact, ContactRole
from apps.reports.digest import Digest, allowance_used, report_digest, report_rows
from apps.reports.models import ReportSubscription
from apps.reports.periods import ObjectiveLine, period_report
from apps.reports.services import run_send
from tests.conftest import TENANT_A
from tests.credits.helpers import result

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pinned(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_the_allowance_is_the_shortfall_a_minimum_allows_or_the_limit_itself(world):
    base = result(world, status="met", attained="100", period="2026-11")

    def used(attained: str | None, target: str = "99.9", comparison: str = "gte"):
        made = copy.copy(base)
        made.attained = None if attained is None else Decimal(attained)
        made.target, made.comparison = Decimal(target), comparison
        return allowance_used(ObjectiveLine(made, made.objective))

    assert used("99.95") == 50  # half of the 0.1 % allowed
    assert used("100") == 0
    assert used("99.5") == 500  # five times over: missed
    assert used("229.5", target="250", comparison="lte") == 92  # e.g. a p95 latency limit
    assert used(None) is None  # no data, no bar
    assert used("100", target="100") is None  # nothing is allowed


def test_rows_carry_the_last_six_periods_oldest_first_and_the_verdict_adds_up(world):
    for period, status in [("2026-07", "met"), ("2026-09", "missed"), ("2026-11", "missed")]:
        result(world, status=status, attained="98", period=period)
    report = period_report(world.agreement_x, parse_period("2026-11"), now=NOW)

    [row] = report_rows(report)
    assert [mark.label for mark in row.record] == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    assert row.record_text == " + x x"
    assert [mark.short for mark in row.record][-1] == "Nov"
    assert row.over and row.times == "20"  # 2 % short of 99.9 %: 20 × the 0.1 % allowed
    digest = report_digest(report)
    assert (digest.objectives, digest.missed, digest.met) == (1, 1, 0)
    assert digest.statuses[ResultStatus.MISSED] == 1


def test_the_mail_opens_with_the_verdict_and_comes_from_the_provider(world):
    result(world, status="missed", attained="98", period="2026-11")
    contact = Contact.objects.create(
        party=world.party_x, name="Rita", email="rita@x.example", role=ContactRole.REPORT_RECIPIENT
    )
    subscription = ReportSubscription.objects.create(
        party=world.party_x, contact=contact, attach_pdf=False
    )
    with schema_context(TENANT_A.schema):
        assert run_send(subscription, "2026-11") == "sent"

    [message] = mail.outbox
    assert message.from_email.startswith(f"{world.provider.name} <")
    assert "The objective was missed." in message.body
    assert "20 × the allowance" in message.body
    html = message.alternatives[0][0]
    assert "The objective was missed." in html and "#b3261e" in html


def _verdict(language: str, **statuses: int) -> str:
    with translation.override(language):
        return Digest(Counter(statuses)).verdict


@pytest.mark.parametrize(
    ("statuses", "english", "german"),
    [
        ({"met": 1}, "The objective was met.", "Das Ziel wurde erfüllt."),
        ({"met": 2}, "Both objectives met.", "Beide Ziele erfüllt."),
        ({"met": 3}, "All 3 objectives met.", "Alle 3 Ziele erfüllt."),
        ({"missed": 1}, "The objective was missed.", "Das Ziel wurde verfehlt."),
        ({"no_data": 2}, "There was no data for either objective.", None),
        (
            {"met": 1, "no_data": 1},
            "1 objective met, 1 without data.",
            "1 Ziel erfüllt, 1 ohne Daten.",
        ),
        (
            {"met": 1, "missed": 1},
            "1 of 2 objectives met, 1 missed.",
            "1 von 2 Zielen erfüllt, 1 verfehlt.",
        ),
        (
            {"met": 2, "missed": 1, "pending": 2, "no_data": 1},
            "2 of 6 objectives met, 1 missed, 2 still running, 1 without data.",
            "2 von 6 Zielen erfüllt, 1 verfehlt, 2 laufen noch, 1 ohne Daten.",
        ),
        ({}, "No objective was evaluated for this period.", None),
    ],
)
def test_the_verdict_is_a_grammatical_sentence_in_english_and_german(statuses, english, german):
    assert _verdict("en", **statuses) == english
    assert "All 2" not in english and "1 objectives" not in english
    if german:
        assert _verdict("de", **statuses) == german

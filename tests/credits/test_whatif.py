"""revision_what_if: a revision evaluated as if in force for past periods, beside what was
judged and credited — the same engine, nothing stored."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.calendars.periods import Period, parse_period
from apps.compliance.models import ComplianceAdjustment, ComplianceResult
from apps.credits.models import CreditEvent, ServiceCredit
from apps.credits.settlement import period_settle
from apps.credits.whatif import (
    last_finished_months,
    periods_between,
    revision_what_if,
    what_if_range,
)
from apps.revisions.models import CreditTier, Objective
from apps.revisions.services import objective_save, revision_approve, revision_new_draft
from tests.conftest import TENANT_A
from tests.support.engine import utc

NOW = utc(2026, 11, 21, 12)  # every period below is over
FIRST, LAST = parse_period("2026-01"), parse_period("2026-06")


@pytest.fixture
def history(engine):
    """ENGINE with availability (99.9; tiers below 99.9 → 10 %, below 99.5 → 25 %), a
    response objective (90 % within 1 business hour; the revision-wide tier below 90 → 5 %)
    and a quarterly closure rate, bound, with data, and settled January to June 2026:

    February: response 1 of 2 in time = 50 % → missed → 5 % = 50.00 EUR;
    April: 3 h down = 99.5833 % → 10 % = 100.00 EUR; May: 6 h down = 99.1935 % → 25 % = 250.00.
    """
    with schema_context(TENANT_A.schema):
        revision = engine.revision
        availability = engine.objective(
            "availability", "availability", "99.9", calendar=engine.always
        )
        engine.objective(
            "response", "response_time", "90", calendar=engine.berlin, threshold_seconds=3600
        )
        engine.objective("closure_q", "closure_rate", "90", period="quarter")
        for below, percent in (("99.9", "10"), ("99.5", "25")):
            CreditTier.objects.create(
                revision=revision,
                objective=availability,
                below=Decimal(below),
                percent=Decimal(percent),
            )
        CreditTier.objects.create(revision=revision, below=Decimal("90"), percent=Decimal("5"))
        engine.bind()
        for name, opened, answered in (
            ("quick", utc(2026, 2, 2, 8), utc(2026, 2, 2, 8, 30)),  # 09:00 Berlin, 30 min
            ("slow", utc(2026, 2, 3, 8), utc(2026, 2, 3, 11)),  # 3 business hours
        ):
            engine.ticket(
                name,
                opened,
                first_response_at=answered,
                resolved_at=answered + timedelta(hours=1),
                closed_at=answered + timedelta(hours=2),
            )
        engine.outage("april", utc(2026, 4, 10), utc(2026, 4, 10, 3))
        engine.outage("may", utc(2026, 5, 10), utc(2026, 5, 10, 6))
        for period in periods_between(FIRST, LAST):
            period_settle(agreements=[engine.agreement], period=period, now=NOW)
        yield engine


def _what_if(engine, revision, first=FIRST, last=LAST):
    return revision_what_if(
        revision=revision, first=first, last=last, acting_user=engine.world.manager, now=NOW
    )


def _draft(engine):
    return revision_new_draft(
        revision=engine.revision, acting_user=engine.world.manager, effective_from=date(2027, 1, 1)
    )


def test_a_copy_of_the_revision_in_force_reproduces_the_stored_results_and_credits(history):
    draft = _draft(history)

    report = _what_if(history, draft)

    stored = ComplianceResult.objects.filter(agreement=history.agreement)
    assert [line.label for line in report.periods] == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-Q1",
        "2026-04",
        "2026-05",
        "2026-06",
        "2026-Q2",
    ]
    assert sum(len(line.objectives) for line in report.periods) == stored.count() == 14
    for line in report.periods:
        credit = ServiceCredit.objects.filter(agreement=history.agreement, period=line.label)
        for item in line.objectives:
            assert item.what_if == item.actual, (line.label, item.key)
            result = stored.get(period=line.label, key=item.key)
            mine = item.what_if
            assert mine is not None
            assert (mine.status, mine.attained, mine.target, mine.margin, mine.data_points) == (
                result.status,
                result.attained,
                result.target,
                result.margin,
                result.data_points,
            )
            assert not item.changed
        if credit.exists():
            assert line.actual is not None
            assert (line.what_if.percent, line.what_if.amount) == (
                credit.get().percent,
                credit.get().amount,
            )
        else:
            assert line.actual is None and line.what_if.amount == 0
        assert line.difference == 0 and not line.changed
    [total] = report.totals
    assert (total.currency, total.what_if, total.actual, total.difference) == (
        "EUR",
        Decimal("400.00"),
        Decimal("400.00"),
        Decimal("0"),
    )


def test_a_changed_target_changes_status_and_credit_as_computed_by_hand(history):
    draft = _draft(history)
    objective_save(
        objective=draft.objectives.get(key="availability"),
        acting_user=history.world.manager,
        target=Decimal("99.5"),
    )

    report = _what_if(history, draft)

    lines = {line.label: line for line in report.periods}
    april = lines["2026-04"]
    [availability] = [item for item in april.objectives if item.key == "availability"]
    assert availability.actual is not None and availability.what_if is not None
    assert (availability.actual.status, availability.actual.amount) == ("missed", Decimal("100"))
    # 99.5833 % against 99.5: met now, so no tier applies.
    assert availability.what_if.attained == Decimal("99.5833")
    assert (availability.what_if.status, availability.what_if.amount) == ("met", Decimal("0"))
    assert availability.what_if.target == Decimal("99.5") and availability.changed
    assert april.what_if.amount == 0 and april.difference == Decimal("-100.00")
    # May (99.1935 %) stays below 99.5: missed, the 25 % tier, 250.00 EUR either way.
    may = lines["2026-05"]
    assert (may.what_if.amount, may.actual.amount if may.actual else None) == (250, 250)
    assert not may.changed
    [total] = report.totals
    assert (total.what_if, total.actual, total.difference) == (
        Decimal("300.00"),
        Decimal("400.00"),
        Decimal("-100.00"),
    )


def test_an_added_objective_has_no_actual_and_a_removed_one_no_what_if(history):
    draft = _draft(history)
    draft.objectives.get(key="response").delete()
    Objective.objects.create(
        revision=draft, key="closure", metric="closure_rate", target=Decimal("90")
    )

    report = _what_if(history, draft, last=parse_period("2026-02"))

    february = {item.key: item for item in report.periods[1].objectives}
    assert february["response"].what_if is None and february["response"].actual is not None
    assert february["closure"].actual is None
    assert february["closure"].what_if is not None
    assert february["closure"].what_if.status == "met"  # 2 opened, 2 closed
    # Without the response objective February earns nothing: 50.00 EUR less.
    assert report.periods[1].difference == Decimal("-50.00")


def test_nothing_is_stored(history):
    draft = _draft(history)
    objective_save(
        objective=draft.objectives.get(key="availability"),
        acting_user=history.world.manager,
        target=Decimal("99.5"),
    )
    tables = [ComplianceResult, ComplianceAdjustment, ServiceCredit, CreditEvent]

    def snapshot():
        return (
            [model.objects.count() for model in tables],
            ServiceCredit.history.count(),
            sorted(ComplianceResult.objects.values_list("pk", "status", "attained", "computed_at")),
            sorted(ServiceCredit.objects.values_list("pk", "amount", "calculated_at")),
        )

    before = snapshot()
    with CaptureQueriesContext(connection) as captured:
        report = _what_if(history, draft)

    assert snapshot() == before
    writes = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]
    assert writes == []
    assert any(line.changed for line in report.periods)  # it did find something different


def test_a_range_names_the_field_that_is_wrong():
    assert what_if_range(start="2026-01", end="2026-10") == (
        parse_period("2026-01"),
        parse_period("2026-10"),
    )
    # A quarter stands for its first or its last month.
    assert what_if_range(start="2026-Q1", end="2026-Q2") == (
        parse_period("2026-01"),
        parse_period("2026-06"),
    )
    for start, end, field in [
        ("2026-10", "2026-01", "to"),
        ("2024-01", "2026-01", "to"),  # 25 months
        ("2026-13", "2026-10", "from"),
        ("2026-01", "October", "to"),
        ("1969-12", "1970-01", "from"),
        ("2099-12", "2100-01", "to"),
        (None, "2026-01", "from"),
        (202601, "2026-02", "from"),
    ]:
        with pytest.raises(ValidationError) as caught:
            what_if_range(start=start, end=end)
        assert set(caught.value.message_dict) == {field}, (start, end)
    assert what_if_range(start="2025-01", end="2026-12")[1] == parse_period("2026-12")  # 24


def test_last_year_is_the_twelve_finished_months():
    first, last = last_finished_months(date(2026, 11, 21))
    assert (first.label, last.label) == ("2025-11", "2026-10")
    assert len([p for p in periods_between(first, last) if p.kind == "month"]) == 12


def test_quarters_count_only_when_wholly_inside_the_range():
    labels = [p.label for p in periods_between(parse_period("2026-02"), parse_period("2026-07"))]
    assert labels == ["2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-Q2", "2026-07"]
    assert Period(date(2026, 4, 1), "quarter").label == "2026-Q2"


def test_customers_may_try_only_a_revision_awaiting_their_acceptance(history):
    draft = _draft(history)
    customer = history.world.customer_x

    with pytest.raises(PermissionDenied):
        revision_what_if(revision=draft, first=FIRST, last=LAST, acting_user=customer, now=NOW)
    with pytest.raises(PermissionDenied):  # the revision in force: accepted, nothing to decide
        revision_what_if(
            revision=history.revision, first=FIRST, last=LAST, acting_user=customer, now=NOW
        )
    revision_approve(revision=draft, acting_user=history.world.manager)
    report = revision_what_if(revision=draft, first=FIRST, last=LAST, acting_user=customer, now=NOW)
    assert report.totals[0].difference == 0
    with pytest.raises(PermissionDenied):
        revision_what_if(
            revision=draft, first=FIRST, last=LAST, acting_user=history.world.customer_y, now=NOW
        )

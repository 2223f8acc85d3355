"""Compliance evaluation of every metric, checked against figures computed by hand."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.calendars.periods import parse_period
from apps.compliance.evaluation import evaluate_period
from apps.compliance.models import ComplianceAdjustment, ComplianceResult
from tests.conftest import TENANT_A
from tests.support.engine import utc

NOW = utc(2026, 11, 21, 12)  # all test periods below are over by then
APRIL_SECONDS = 30 * 86400


@pytest.fixture
def evaluate(engine):
    def run(period: str, now=NOW, agreements=None):
        evaluation = evaluate_period(
            agreements=agreements or [engine.agreement], period=parse_period(period), now=now
        )
        return {r.key: r for r in evaluation.results if r.agreement_id == engine.agreement.pk}

    with schema_context(TENANT_A.schema):
        yield run


def test_availability_counts_the_union_of_provider_outages_only(engine, evaluate):
    engine.objective("availability", "availability", "99.7", calendar=engine.always)
    engine.bind()
    engine.outage("a", utc(2026, 4, 10, 10), utc(2026, 4, 10, 11))  # 60 min
    engine.outage("b", utc(2026, 4, 10, 10, 30), utc(2026, 4, 10, 11, 15))  # +15 min overlap
    engine.outage("c", utc(2026, 3, 31, 23, 50), utc(2026, 4, 1, 0, 20))  # 20 min in April
    engine.outage("planned", utc(2026, 4, 12), utc(2026, 4, 12, 4), kind="planned")
    engine.outage("customer", utc(2026, 4, 13), utc(2026, 4, 13, 4), cause="customer")
    engine.outage("third", utc(2026, 4, 14), utc(2026, 4, 14, 4), cause="third_party")
    engine.outage("excluded", utc(2026, 4, 15), utc(2026, 4, 15, 4), excluded=True)
    engine.outage("elsewhere", utc(2026, 4, 16), utc(2026, 4, 16, 4), service=engine.other_service)
    engine.outage("other-customer", utc(2026, 4, 17), utc(2026, 4, 17, 4), customer="y")
    engine.outage("own-customer", utc(2026, 4, 18), utc(2026, 4, 18, 0, 5), customer="x")

    result = evaluate("2026-04")["availability"]

    downtime = (75 + 20 + 5) * 60
    assert result.detail["downtime_seconds"] == downtime
    assert result.detail["window_seconds"] == APRIL_SECONDS
    expected = Fraction(100 * (APRIL_SECONDS - downtime), APRIL_SECONDS)
    assert result.attained == Decimal(f"{float(expected):.4f}")
    assert result.status == "met" and result.data_points == 4  # a, b, c, own-customer


def test_availability_target_is_judged_exactly_not_on_rounded_figures(engine, evaluate):
    # 99.99995 % attained vs a 99.9999 target: met; 4-decimal rounding would still say met,
    # so use a target that rounding would wrongly pass: attained 99.99985 < 99.9999.
    engine.objective("availability", "availability", "99.9999", calendar=engine.always)
    engine.bind()
    # 30-day window 2,592,000 s; 0.00015 % of it is 3.888 s -> use 4 s: 99.999845...
    engine.outage("tiny", utc(2026, 4, 2, 10), utc(2026, 4, 2, 10, 0, 4))

    result = evaluate("2026-04")["availability"]

    assert result.attained == Decimal("99.9998")
    assert result.status == "missed"  # 99.99984568 < 99.9999


def test_availability_in_business_hours_ignores_night_outages(engine, evaluate):
    engine.objective("availability", "availability", "99.0", calendar=engine.berlin)
    engine.bind()
    engine.outage("night", utc(2026, 4, 7, 20), utc(2026, 4, 8, 5))  # 22:00-07:00 Berlin
    engine.outage("day", utc(2026, 4, 8, 8), utc(2026, 4, 8, 9))  # 10:00-11:00 Berlin

    result = evaluate("2026-04")["availability"]

    # April 2026 in Berlin: 22 weekdays minus Good Friday (3rd) and Easter Monday (6th).
    assert result.detail["window_seconds"] == 20 * 10 * 3600
    assert result.detail["downtime_seconds"] == 3600


def test_response_time_with_business_hours_pauses_and_open_tickets(engine, evaluate):
    engine.objective(
        "response", "response_time", "50", calendar=engine.berlin, threshold_seconds=3600
    )
    engine.bind()
    # Friday 17:30 Berlin -> Monday 08:20: 30 + 20 = 50 clock minutes: within.
    engine.ticket("weekend", utc(2026, 4, 10, 15, 30), first_response_at=utc(2026, 4, 13, 6, 20))
    # Tuesday 09:00 -> 11:00 Berlin, paused 09:30-10:45: 45 min: within.
    engine.ticket(
        "paused",
        utc(2026, 4, 14, 7),
        first_response_at=utc(2026, 4, 14, 9),
        pauses=[(utc(2026, 4, 14, 7, 30), utc(2026, 4, 14, 8, 45))],
    )
    # Wednesday 09:00 -> 10:30 Berlin: 90 min: missed.
    engine.ticket("slow", utc(2026, 4, 15, 7), first_response_at=utc(2026, 4, 15, 8, 30))
    # Still open at NOW (November): long past the threshold: missed.
    engine.ticket("open-late", utc(2026, 4, 16, 7))
    # Another customer's ticket and an excluded one do not count.
    engine.ticket("theirs", utc(2026, 4, 16, 7), customer="y")
    engine.ticket("excluded", utc(2026, 4, 16, 7), excluded=True)

    result = evaluate("2026-04")["response"]

    assert result.detail["met"] == 2 and result.detail["missed"] == 2
    assert result.attained == Decimal("50.0000") and result.status == "met"
    assert result.data_points == 4


def test_open_ticket_within_threshold_is_pending(engine, evaluate):
    engine.objective(
        "response", "response_time", "90", calendar=engine.berlin, threshold_seconds=3600
    )
    engine.bind()
    opened = utc(2026, 4, 14, 7)  # Tuesday 09:00 Berlin
    engine.ticket("fresh", opened)

    result = evaluate("2026-04", now=opened + timedelta(minutes=30))["response"]

    assert result.status == "pending" and result.attained is None
    assert result.detail["pending"] == 1


def test_priority_filter(engine, evaluate):
    engine.objective(
        "p1",
        "resolution_time",
        "100",
        calendar=engine.always,
        threshold_seconds=3600,
        priority="P1",
    )
    engine.bind()
    engine.ticket(
        "p1-fast", utc(2026, 4, 1, 10), priority="P1", resolved_at=utc(2026, 4, 1, 10, 30)
    )
    engine.ticket("p2-slow", utc(2026, 4, 1, 10), priority="P2", resolved_at=utc(2026, 4, 3))

    result = evaluate("2026-04")["p1"]

    assert (result.attained, result.data_points, result.status) == (Decimal("100"), 1, "met")


def test_first_contact_resolution_and_closure_rate(engine, evaluate):
    engine.objective("fcr", "first_contact_resolution", "60")
    engine.objective("closure", "closure_rate", "90")
    engine.bind()
    for index, contacts in enumerate([1, 1, 2, 3, 1]):
        engine.ticket(
            f"t{index}",
            utc(2026, 4, 2 + index, 9),
            contacts=contacts,
            resolved_at=utc(2026, 4, 2 + index, 12),
            closed_at=utc(2026, 4, 20),
        )
    engine.ticket("unresolved", utc(2026, 4, 9, 9))
    # Opened in March, closed in April: counts as closed in April, not as opened.
    engine.ticket(
        "march", utc(2026, 3, 30, 9), resolved_at=utc(2026, 3, 31), closed_at=utc(2026, 4, 2)
    )

    results = evaluate("2026-04")

    assert results["fcr"].attained == Decimal("60.0000") and results["fcr"].status == "met"
    assert results["fcr"].data_points == 5
    assert results["closure"].detail == {**results["closure"].detail, "opened": 6, "closed": 6}
    assert results["closure"].attained == Decimal("100.0000")


def test_turnaround_percentile_matches_percentile_cont(engine, evaluate):
    engine.objective(
        "turnaround",
        "turnaround_time",
        "5000",
        comparison="lte",
        aggregate="p90",
        calendar=engine.always,
    )
    engine.bind()
    minutes = [10, 20, 35, 50, 80, 95, 120]
    for index, duration in enumerate(minutes):
        opened = utc(2026, 4, 1 + index, 9)
        engine.ticket(f"w{index}", opened, resolved_at=opened + timedelta(minutes=duration))

    result = evaluate("2026-04")["turnaround"]

    expected = np.percentile(np.array(minutes) * 60, 90, method="linear")
    assert float(result.attained) == pytest.approx(expected)
    assert result.status == ("met" if expected <= 5000 else "missed")


def test_sample_aggregates_run_in_postgresql(engine, evaluate):
    from apps.measurements.models import Sample

    engine.objective(
        "latency", "sample", "250", comparison="lte", aggregate="p95", sample_metric="latency_ms"
    )
    engine.objective("volume", "sample", "10", aggregate="count", sample_metric="latency_ms")
    engine.bind()
    values = [100.0, 120.0, 180.0, 240.0, 260.0, 900.0]
    for index, value in enumerate(values):
        Sample.objects.create(
            external_id=f"s{index}",
            service=engine.service,
            metric="latency_ms",
            at=utc(2026, 4, 1 + index),
            value=value,
        )
    Sample.objects.create(
        external_id="other-metric",
        service=engine.service,
        metric="csat",
        at=utc(2026, 4, 2),
        value=1.0,
    )

    results = evaluate("2026-04")

    assert float(results["latency"].attained) == pytest.approx(
        np.percentile(values, 95, method="linear"), abs=1e-4
    )
    assert results["latency"].status == "missed"
    assert results["volume"].attained == Decimal("6") and results["volume"].status == "missed"


def test_no_data_is_never_a_breach(engine, evaluate):
    engine.objective("fcr", "first_contact_resolution", "90")
    engine.objective(
        "latency", "sample", "250", comparison="lte", aggregate="p95", sample_metric="latency_ms"
    )
    engine.bind()

    results = evaluate("2026-04")

    assert {r.status for r in results.values()} == {"no_data"}
    assert all(r.attained is None for r in results.values())


def test_open_period_is_pending_with_a_provisional_figure(engine, evaluate):
    engine.objective("availability", "availability", "99.9", calendar=engine.always)
    engine.bind()
    engine.outage("early", utc(2026, 11, 2), utc(2026, 11, 2, 1))

    result = evaluate("2026-11")["availability"]  # NOW is 21 November

    assert result.status == "pending"
    window = int((NOW - utc(2026, 11, 1)).total_seconds())
    assert result.detail["window_seconds"] == window
    assert result.attained == Decimal(f"{100 * (window - 3600) / window:.4f}")


def test_period_is_bounded_by_local_midnight_of_the_calendar(engine, evaluate):
    engine.objective("berlin", "closure_rate", "0", calendar=engine.berlin)
    engine.objective("utc", "closure_rate", "0", calendar=engine.always)
    engine.bind()
    # 2026-09-30 23:30 UTC is already 1 October in Berlin, still 30 September in UTC.
    engine.ticket("edge", utc(2026, 9, 30, 23, 30))

    october = evaluate("2026-10")
    september = evaluate("2026-09")

    assert october["berlin"].detail["opened"] == 1 and october["utc"].status == "no_data"
    assert september["utc"].detail["opened"] == 1 and september["berlin"].status == "no_data"


def test_quarterly_objectives_are_evaluated_for_quarters_only(engine, evaluate):
    engine.objective("monthly", "closure_rate", "0")
    engine.objective("quarterly", "closure_rate", "0", period="quarter")
    engine.bind()
    engine.ticket("q", utc(2026, 5, 5))

    assert set(evaluate("2026-05")) == {"monthly"}
    quarter = evaluate("2026-Q2")
    assert set(quarter) == {"quarterly"} and quarter["quarterly"].detail["opened"] == 1


def test_reevaluation_is_idempotent(engine, evaluate):
    engine.objective("availability", "availability", "99.9", calendar=engine.always)
    engine.bind()
    engine.outage("a", utc(2026, 4, 10), utc(2026, 4, 10, 2))

    first = evaluate("2026-04")["availability"]
    second = evaluate("2026-04")["availability"]

    assert first.pk == second.pk
    assert (first.attained, first.status) == (second.attained, second.status)
    assert (
        ComplianceResult.objects.filter(agreement=engine.agreement, period="2026-04").count() == 1
    )


def test_final_results_get_adjustments_not_rewrites(engine, evaluate):
    engine.objective("availability", "availability", "99.9", calendar=engine.always)
    engine.bind()
    outage = engine.outage("a", utc(2026, 4, 10), utc(2026, 4, 10, 2))
    result = evaluate("2026-04")["availability"]
    assert result.status == "missed"
    ComplianceResult.objects.filter(pk=result.pk).update(final=True)

    outage.excluded = True  # e.g. an exclusion approved after the credits were issued
    outage.save()
    again = evaluate("2026-04")["availability"]
    evaluate("2026-04")  # a second run does not add a second adjustment

    assert (again.status, again.attained) == ("missed", result.attained)
    adjustment = ComplianceAdjustment.objects.get(result=result)
    assert (adjustment.old_status, adjustment.new_status) == ("missed", "met")
    assert adjustment.new_attained == Decimal("100.0000")


def test_query_count_does_not_grow_with_data(engine, evaluate):
    engine.objective("availability", "availability", "99.9", calendar=engine.always)
    engine.objective(
        "response", "response_time", "90", calendar=engine.berlin, threshold_seconds=3600
    )
    engine.objective("closure", "closure_rate", "90")
    engine.bind()

    def queries_with(count: int, prefix: str) -> int:
        for index in range(count):
            opened = utc(2026, 6, 1 + index % 28, 9)
            engine.ticket(
                f"{prefix}{index}",
                opened,
                first_response_at=opened + timedelta(minutes=index % 90),
                pauses=[(opened, opened + timedelta(minutes=5))],
            )
            engine.outage(f"{prefix}o{index}", opened, opened + timedelta(minutes=1))
        with CaptureQueriesContext(connection) as captured:
            evaluate("2026-06")
        return len(captured)

    evaluate("2026-06")  # warm the per-process caches (calendar specs, clock tables)
    few = queries_with(5, "a")
    many = queries_with(200, "b")

    assert many == few

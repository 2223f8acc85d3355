"""Calendar inheritance in the engine: objective → agreement (→ its parents) → tenant default →
24×7 in the tenant's timezone; evaluation, breaches, timeline and at-risk all follow it."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.agreements.models import Tier
from apps.agreements.services import agreement_save
from apps.calendars.periods import parse_period
from apps.calendars.services import calendar_save
from apps.compliance.breaches import period_breaches
from apps.compliance.evaluation import compute_period, evaluate_period
from apps.compliance.risk import at_risk
from apps.compliance.timeline import ticket_timeline
from apps.measurements.models import Ticket
from apps.revisions.selectors import effective_objectives
from tests.conftest import TENANT_A
from tests.factories import AgreementFactory
from tests.support.engine import utc

NOW = utc(2026, 11, 21, 12)
APRIL = parse_period("2026-04")
NIGHT_AND_DAY = 10 * 3600  # 24×7 downtime of the two outages below
DAY_ONLY = 3600  # the Berlin office hours' share (the night outage is outside them)


@pytest.fixture
def levels(engine):
    """ENGINE with two availability objectives, "plain" (no calendar) and "own" (24×7 UTC
    of its own), bound; a night outage (22:00–07:00 Berlin) and a day one (10–11)."""
    with schema_context(TENANT_A.schema):
        engine.objective("plain", "availability", "99.0")
        engine.objective("own", "availability", "99.0", calendar=engine.always)
        engine.bind()
        engine.outage("night", utc(2026, 4, 7, 20), utc(2026, 4, 8, 5))
        engine.outage("day", utc(2026, 4, 8, 8), utc(2026, 4, 8, 9))
        yield engine


def _evaluate(engine):
    evaluation = evaluate_period(agreements=[engine.agreement], period=APRIL, now=NOW)
    return {r.key: r for r in evaluation.results}


def _calendars(engine):
    return {e.key: e.calendar for e in effective_objectives(engine.agreement, APRIL.first_day)}


def test_no_calendar_anywhere_is_24x7_in_the_tenants_timezone(levels):
    results = _evaluate(levels)

    plain = results["plain"]
    assert plain.detail["downtime_seconds"] == NIGHT_AND_DAY
    assert (plain.detail["calendar"], plain.detail["calendar_source"]) == ("24×7", "none")
    assert plain.detail["timezone"] == "Europe/Berlin"  # the tenant's
    assert plain.period_start == utc(2026, 3, 31, 22)  # local midnight in Berlin
    assert _calendars(levels)["plain"].source == "none"


def test_the_tenant_default_calendar_applies_where_nothing_else_does(levels):
    calendar_save(calendar=levels.berlin, acting_user=levels.world.admin, is_default=True)

    results = _evaluate(levels)

    assert results["plain"].detail["downtime_seconds"] == DAY_ONLY
    assert results["plain"].detail["calendar_source"] == "default"
    assert results["own"].detail["downtime_seconds"] == NIGHT_AND_DAY  # its own wins
    assert _calendars(levels)["plain"].label == "Engine Berlin — the default calendar"


def test_the_agreements_calendar_wins_over_the_default(levels):
    calendar_save(calendar=levels.always, acting_user=levels.world.admin, is_default=True)
    agreement_save(
        agreement=levels.agreement, acting_user=levels.world.admin, calendar=levels.berlin
    )

    results = _evaluate(levels)

    assert results["plain"].detail["downtime_seconds"] == DAY_ONLY
    assert results["plain"].detail["calendar"] == "Engine Berlin"
    assert results["plain"].detail["calendar_source"] == "agreement"
    assert results["own"].detail["calendar_source"] == "objective"
    assert _calendars(levels)["plain"].label == "Engine Berlin — from the agreement"
    assert _calendars(levels)["own"].label == "Engine 24x7 — set on the objective"


def test_a_parent_agreements_calendar_reaches_its_children(levels):
    corporate = AgreementFactory(
        reference="ENGINE-CORP",
        tier=Tier.CORPORATE,
        provider=levels.world.provider,
        customer=levels.world.party_x,
        calendar=levels.berlin,
    )
    levels.agreement.parent = corporate
    levels.agreement.save()

    results = _evaluate(levels)

    assert results["plain"].detail["downtime_seconds"] == DAY_ONLY
    resolved = _calendars(levels)["plain"]
    assert (resolved.source, resolved.inherited, resolved.agreement) == (
        "agreement",
        True,
        "ENGINE-CORP",
    )
    assert resolved.label == "Engine Berlin — from agreement ENGINE-CORP"
    # The nearer agreement's own calendar wins over its parent's.
    agreement_save(
        agreement=levels.agreement, acting_user=levels.world.admin, calendar=levels.always
    )
    assert _evaluate(levels)["plain"].detail["downtime_seconds"] == NIGHT_AND_DAY
    assert _calendars(levels)["plain"].label == "Engine 24x7 — from the agreement"


def test_compute_period_writes_nothing_and_agrees_with_the_stored_results(levels):
    agreement_save(
        agreement=levels.agreement, acting_user=levels.world.admin, calendar=levels.berlin
    )
    computed = compute_period(agreements=[levels.agreement], period=APRIL, now=NOW)
    assert not levels.agreement.compliance_results.exists()
    assert all(result.pk is None for result in computed)

    stored = _evaluate(levels)

    for result in computed:
        twin = stored[result.key]
        assert (result.status, result.attained, result.margin, result.data_points) == (
            twin.status,
            twin.attained,
            twin.margin,
            twin.data_points,
        )
        assert result.detail == twin.detail


@pytest.fixture
def clocked(engine):
    """A response objective (1 business hour) without a calendar; a ticket opened on Friday
    2026-04-17 17:30 Berlin and answered on Monday at 08:15."""
    with schema_context(TENANT_A.schema):
        engine.objective("response", "response_time", "90", threshold_seconds=3600)
        engine.bind()
        opened = utc(2026, 4, 17, 15, 30)
        engine.ticket("weekend", opened, first_response_at=utc(2026, 4, 20, 6, 15))
        yield engine


def test_breaches_and_the_timeline_run_on_the_resolved_calendar(clocked):
    # 24×7 (nothing set): 62 h 45 min; late.
    [late] = period_breaches(clocked.agreement, APRIL, now=NOW)
    assert late.clock_seconds == (62 * 60 + 45) * 60
    agreement_save(
        agreement=clocked.agreement, acting_user=clocked.world.admin, calendar=clocked.berlin
    )
    ticket = Ticket.objects.get(external_id="weekend")

    # Berlin office hours: Friday 17:30–18:00 and Monday 08:00–08:15, 45 min: in time.
    assert period_breaches(clocked.agreement, APRIL, now=NOW) == []
    timeline = ticket_timeline(ticket, clocked.agreement, APRIL, now=NOW)
    assert timeline is not None
    [clock] = timeline.clocks
    assert (clock.calendar, clock.timezone) == ("Engine Berlin", "Europe/Berlin")
    assert clock.clock_seconds == 45 * 60 and not clock.breached


def test_at_risk_budgets_use_the_resolved_calendar(levels, time_machine):
    time_machine.move_to(utc(2026, 4, 15, 12), tick=False)
    wide = at_risk(levels.agreement)
    calendar_save(calendar=levels.berlin, acting_user=levels.world.admin, is_default=True)
    office = at_risk(levels.agreement)

    window = {b.key: b.window_seconds for b in wide.budgets}
    assert window["plain"] == window["own"] == 30 * 86400
    narrow = {b.key: b.window_seconds for b in office.budgets}
    assert narrow["own"] == 30 * 86400
    assert narrow["plain"] < 30 * 86400 / 3  # ten hours on working days only

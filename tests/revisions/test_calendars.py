"""resolve_calendar, the one rule for an objective's calendar, and effective objectives of a
revision assumed to be in force (what a what-if evaluates)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from apps.agreements.models import Tier
from apps.calendars.models import Calendar
from apps.revisions.models import Metric, Objective
from apps.revisions.selectors import (
    ChainLink,
    effective_objectives,
    effective_objectives_many,
    resolve_calendar,
)
from apps.revisions.services import (
    objective_save,
    revision_accept,
    revision_approve,
    revision_create,
)
from tests.conftest import agreement_for

BERLIN = Calendar(pk=1, name="Berlin office", timezone="Europe/Berlin")
NEW_YORK = Calendar(pk=2, name="New York office", timezone="America/New_York")
ALWAYS = Calendar(pk=3, name="Always", timezone="UTC")


def _objective(calendar: Calendar | None = None) -> Objective:
    return Objective(key="k", metric=Metric.AVAILABILITY, target=Decimal("99"), calendar=calendar)


def test_the_most_specific_calendar_wins_and_says_where_it_comes_from():
    chain = [ChainLink("SVC", None), ChainLink("CUST", NEW_YORK), ChainLink("CORP", BERLIN)]
    cases = [
        (_objective(ALWAYS), chain, BERLIN, "Always — set on the objective"),
        (_objective(), [ChainLink("SVC", BERLIN)], ALWAYS, "Berlin office — from the agreement"),
        (_objective(), chain, ALWAYS, "New York office — from agreement CUST"),
        (_objective(), [ChainLink("SVC", None)], ALWAYS, "Always — the default calendar"),
    ]
    for objective, links, default, label in cases:
        assert resolve_calendar(objective, links, default).label == label
    nothing = resolve_calendar(_objective(), [ChainLink("SVC", None)], None)
    assert (nothing.calendar, nothing.source, nothing.name) == (None, "none", "24×7")


def _revision(world, agreement, keys, *, bind=True):
    revision = revision_create(
        agreement=agreement, acting_user=world.manager, effective_from=date(2026, 1, 1)
    )
    for key, target in keys:
        objective_save(
            acting_user=world.manager,
            revision=revision,
            key=key,
            metric=Metric.AVAILABILITY,
            target=Decimal(target),
        )
    if bind:
        revision_approve(revision=revision, acting_user=world.manager)
        revision_accept(revision=revision, acting_user=world.customer_x)
    return revision


def test_an_assumed_revision_replaces_the_one_in_force_and_still_inherits(world):
    corporate = agreement_for(world, "C-CORP", Tier.CORPORATE, calendar=world.calendar)
    service = agreement_for(world, "C-SVC", Tier.SERVICE, parent=corporate)
    _revision(world, corporate, [("availability", "99.0"), ("uptime", "98")])
    _revision(world, service, [("availability", "99.9")])
    draft = _revision(world, service, [("availability", "99.5"), ("extra", "90")], bind=False)
    on = date(2025, 1, 1)  # before anything is in force: the assumption alone counts

    assert effective_objectives(service, on) == []
    assumed = {e.key: e for e in effective_objectives_many([service], on, assume=draft)[service.pk]}

    assert set(assumed) == {"availability", "extra"}  # the corporate one is not in force yet
    in_2026 = effective_objectives_many([service], date(2026, 2, 1), assume=draft)[service.pk]
    by_key = {e.key: e for e in in_2026}
    assert set(by_key) == {"availability", "extra", "uptime"}
    assert by_key["availability"].objective.target == Decimal("99.5")
    assert by_key["availability"].revision == draft
    assert by_key["uptime"].inherited and by_key["uptime"].agreement == corporate
    label = f"{world.calendar.name} — from agreement C-CORP"
    assert by_key["extra"].calendar.label == label

"""The portal's test world: tenant A's world_a plus agreements with a missed month.

Every test here runs at NOW (15 November 2026, pinned before any other fixture),
so September and October 2026 are finished months and November is open.

``portal`` adds, for customer X (``customer_x_alpha``, a manager of X):

* agreement ``P0-alpha`` on world_a's service: revision 1 (approved, accepted) with
  availability ≥ 99.9 % and first response within 1 h for ≥ 90 % of tickets, and
  credit tiers; in October two of four tickets breach the response clock (one of
  them paused for a while) and a two-hour provider outage misses availability, so
  October earns a credit; revision 2 is approved and waits for X's acceptance;
* ``viewer_x_alpha``, a *viewer* of X (sees everything, may neither accept nor dispute);
* a report subscription of customer_x.

``add_agreements(portal, count)`` adds more agreements of the same shape: the
query-count tests compare one agreement with ten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from apps.agreements.models import Agreement, Tier
from apps.agreements.services import agreement_save
from apps.calendars.periods import Period
from apps.credits.models import ServiceCredit
from apps.credits.settlement import period_settle
from apps.measurements.models import Outage, OutageKind, Ticket, TicketPause
from apps.parties.models import MembershipRole
from apps.parties.services import membership_grant
from apps.reports.models import ReportSubscription
from apps.revisions.models import Metric, Revision
from apps.revisions.services import (
    credit_tier_save,
    objective_save,
    revision_accept,
    revision_approve,
    revision_create,
    revision_new_draft,
    revision_update,
)
from tests.conftest import PASSWORD, TENANT_A, World

NOW = datetime(2026, 11, 15, 10, tzinfo=UTC)
SEPTEMBER = Period(date(2026, 9, 1), "month")
OCTOBER = Period(date(2026, 10, 1), "month")
NOVEMBER = Period(date(2026, 11, 1), "month")
PERIODS = (SEPTEMBER, OCTOBER, NOVEMBER)


@pytest.fixture(autouse=True)
def _pinned_now(time_machine):
    """Before any other fixture, so the worlds are built and evaluated at NOW too."""
    time_machine.move_to(NOW, tick=False)


@dataclass
class Portal:
    world: World
    agreement: Agreement
    revision: Revision  # 1: binding
    pending: Revision  # 2: approved, waiting for customer X's acceptance
    credit: ServiceCredit  # October's
    breaching: Ticket  # an October ticket over its response clock
    paused: Ticket  # an October ticket with a pause
    viewer: Any
    subscription: ReportSubscription
    agreements: list[Agreement] = field(default_factory=list)

    @property
    def urls(self) -> dict[str, str]:
        """Every portal URL of customer X's objects (for the permission cast)."""
        a, period = self.agreement.pk, OCTOBER.label
        base = f"/agreements/{a}/"
        return {
            "agreement": base,
            "period": f"{base}periods/{period}/",
            "period-pdf": f"{base}periods/{period}/report.pdf",
            "period-csv": f"{base}periods/{period}/report.csv",
            "ticket": f"{base}periods/{period}/tickets/{self.breaching.pk}/",
            "revisions": f"{base}revisions/",
            "revision": f"{base}revisions/1/",
            "revision-compare": f"{base}revisions/2/compare/?against=1",
            "revision-accept": f"{base}revisions/2/accept/",
            "credit": f"/credits/{self.credit.pk}/",
        }


def _ticket(
    external_id: str, world: World, opened: datetime, response: timedelta, **extra: Any
) -> Ticket:
    return Ticket(
        external_id=external_id,
        service=world.service,
        customer=world.party_x,
        priority="P2",
        opened_at=opened,
        first_response_at=opened + response,
        resolved_at=opened + response + timedelta(hours=1),
        closed_at=opened + response + timedelta(hours=2),
        **extra,
    )


def _measurements(world: World, index: int) -> list[Ticket]:
    """Four tickets a month (two breach in October) and October's outages."""
    tickets = []
    for period in PERIODS:
        start = datetime.combine(period.first_day, datetime.min.time(), UTC) + timedelta(days=2)
        for n in range(4):
            slow = period == OCTOBER and n < 2
            opened = start + timedelta(days=n * 2, hours=9 + index % 5)
            if opened >= NOW:
                continue
            response = timedelta(hours=3, minutes=n) if slow else timedelta(minutes=10 + n)
            tickets.append(_ticket(f"p{index}-{period.label}-{n}", world, opened, response))
    Ticket.objects.bulk_create(tickets)
    october = datetime(2026, 10, 20, 8, tzinfo=UTC) + timedelta(hours=index)
    Outage.objects.bulk_create(
        [
            Outage(
                external_id=f"p{index}-down",
                service=world.service,
                start=october,
                end=october + timedelta(hours=2),
                description="Storage failure",
            ),
            Outage(
                external_id=f"p{index}-maint",
                service=world.service,
                start=october + timedelta(days=2),
                end=october + timedelta(days=2, hours=3),
                kind=OutageKind.PLANNED,
                description="Planned maintenance",
            ),
        ]
    )
    return [t for t in Ticket.objects.filter(external_id__startswith=f"p{index}-2026-10-")]


def _agreement(world: World, index: int) -> tuple[Agreement, Revision]:
    agreement = agreement_save(
        acting_user=world.admin,
        reference=f"P{index}-alpha",
        title=f"Portal agreement {index}",
        provider=world.provider,
        customer=world.party_x,
        tier=Tier.SERVICE,
        term_start=date(2026, 1, 1),
        monthly_fee=Decimal("1000.00"),
        currency="EUR",
        services=[world.service],
    )
    revision = revision_create(
        agreement=agreement,
        acting_user=world.manager,
        effective_from=date(2026, 1, 1),
        summary="First revision.",
        sections={"overview": "The hosting levels.\nMeasured monthly.", "review": "Yearly."},
        credit_cap_percent=Decimal("30"),
    )
    availability = objective_save(
        acting_user=world.manager,
        revision=revision,
        key="availability",
        name="Hosting availability",
        metric=Metric.AVAILABILITY,
        target=Decimal("99.9"),
        service=world.service,
    )
    objective_save(
        acting_user=world.manager,
        revision=revision,
        key="response",
        name="First response within an hour",
        metric=Metric.RESPONSE_TIME,
        target=Decimal("90"),
        threshold_seconds=3600,
    )
    credit_tier_save(
        acting_user=world.manager,
        revision=revision,
        objective=availability,
        below=Decimal("99.9"),
        percent=Decimal("10"),
    )
    credit_tier_save(
        acting_user=world.manager,
        revision=revision,
        objective=None,
        below=Decimal("90"),
        percent=Decimal("5"),
    )
    revision_approve(revision=revision, acting_user=world.manager)
    revision_accept(revision=revision, acting_user=world.customer_x)
    return agreement, revision


def add_agreements(portal: Portal, count: int) -> list[Agreement]:
    """``count`` more agreements of customer X like P0 (with their own measurements),
    then every agreement evaluated again (the shared service's tickets count for all)."""
    world = portal.world
    with schema_context(TENANT_A.schema):
        start = len(portal.agreements)
        for index in range(start, start + count):
            agreement, _ = _agreement(world, index)
            _measurements(world, index)
            portal.agreements.append(agreement)
        for period in PERIODS:
            period_settle(agreements=portal.agreements, period=period, now=NOW)
    return portal.agreements


def build_portal(world: World) -> Portal:
    agreement, revision = _agreement(world, 0)
    october = sorted(_measurements(world, 0), key=lambda t: t.external_id)
    paused = october[1]
    TicketPause.objects.create(
        ticket=paused,
        start=paused.opened_at + timedelta(minutes=20),
        end=paused.opened_at + timedelta(minutes=50),
    )
    for period in PERIODS:
        period_settle(agreements=[agreement], period=period, now=NOW)
    pending = revision_new_draft(
        revision=revision, acting_user=world.manager, effective_from=date(2027, 1, 1)
    )
    revision_update(
        revision=pending,
        acting_user=world.manager,
        summary="From 2027: availability 99.95 %.",
        sections={
            "overview": "The hosting levels.\nMeasured monthly, reported weekly.",
            "review": "Yearly.",
        },
    )
    objective_save(
        objective=pending.objectives.get(key="availability"),
        acting_user=world.manager,
        target=Decimal("99.95"),
    )
    revision_approve(revision=pending, acting_user=world.manager)
    viewer = get_user_model().objects.create_user(
        username="viewer_x_alpha", password=PASSWORD, first_name="Vera", last_name="Viewer"
    )
    membership_grant(
        user=viewer, party=world.party_x, role=MembershipRole.VIEWER, acting_user=world.admin
    )
    world.customer_x.email = "xavier@customer-x.example"
    world.customer_x.save(update_fields=["email"])
    subscription = ReportSubscription.objects.create(party=world.party_x, user=world.customer_x)
    return Portal(
        world=world,
        agreement=agreement,
        revision=revision,
        pending=pending,
        credit=ServiceCredit.objects.get(agreement=agreement, period=OCTOBER.label),
        breaching=october[0],
        paused=paused,
        viewer=viewer,
        subscription=subscription,
        agreements=[agreement],
    )


@pytest.fixture
def portal(world_a) -> Portal:
    with schema_context(TENANT_A.schema):
        return build_portal(world_a)


def queries_of(client, url: str) -> int:
    """The number of queries a page takes (after one warm-up request: sessions,
    content types and other caches are filled once)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)

"""The engine fixtures: one agreement with a revision whose objectives we choose per test.

A plain module, loaded from tests/conftest.py as a pytest plugin, because the
compliance, credits and calendars tests all build on it. ``engine`` is the bare
agreement; ``bound`` adds an availability and a response-time objective, binds
the revision and records one three-hour outage in April 2026.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.agreements.models import Agreement
from apps.calendars.models import Calendar
from apps.calendars.services import calendar_save
from apps.measurements.models import Outage, Ticket, TicketPause
from apps.revisions.models import Objective, Revision
from apps.revisions.services import revision_accept, revision_approve, revision_create
from tests.conftest import TENANT_A, World, api_as
from tests.factories import AgreementFactory, ServiceFactory


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def client_for(user, host: str = TENANT_A.host, schema: str = TENANT_A.schema) -> APIClient:
    """An API client of its own, authenticated as ``user`` of the tenant at ``host``."""
    client = APIClient(HTTP_HOST=host)
    with schema_context(schema):
        api_as(client, user)
    return client


@dataclass
class Engine:
    world: World
    agreement: Agreement
    revision: Revision
    service: object
    other_service: object
    berlin: Calendar
    always: Calendar

    def objective(self, key: str, metric: str, target: str, **extra) -> Objective:
        return Objective.objects.create(
            revision=self.revision, key=key, metric=metric, target=Decimal(target), **extra
        )

    def bind(self) -> None:
        revision_approve(revision=self.revision, acting_user=self.world.manager)
        revision_accept(revision=self.revision, acting_user=self.world.customer_x)
        self.revision.refresh_from_db()

    def ticket(
        self, external_id: str, opened, *, service=None, customer="x", pauses=(), **fields
    ) -> Ticket:
        customer_obj = {"x": self.world.party_x, "y": self.world.party_y, None: None}[customer]
        ticket = Ticket.objects.create(
            external_id=external_id,
            opened_at=opened,
            service=service or self.service,
            customer=customer_obj,
            **fields,
        )
        for start, end in pauses:
            TicketPause.objects.create(ticket=ticket, start=start, end=end)
        return ticket

    def outage(self, external_id: str, start, end, *, service=None, customer=None, **fields):
        customer_obj = {"x": self.world.party_x, "y": self.world.party_y, None: None}[customer]
        return Outage.objects.create(
            external_id=external_id,
            start=start,
            end=end,
            service=service or self.service,
            customer=customer_obj,
            **fields,
        )


@pytest.fixture
def engine(world_a):
    with schema_context(TENANT_A.schema):
        service = ServiceFactory(name="Engine service")
        other = ServiceFactory(name="Other service")
        agreement = AgreementFactory(
            reference="ENGINE",
            provider=world_a.provider,
            customer=world_a.party_x,
            term_start=date(2026, 1, 1),
            monthly_fee=Decimal("1000.00"),
        )
        agreement.services.set([service])
        revision = revision_create(
            agreement=agreement, acting_user=world_a.manager, effective_from=date(2026, 1, 1)
        )
        berlin = calendar_save(
            acting_user=world_a.admin,
            name="Engine Berlin",
            timezone="Europe/Berlin",
            holiday_country="DE",
            working_hours=[(d, 8 * 60, 18 * 60) for d in range(5)],
        )
        always = calendar_save(acting_user=world_a.admin, name="Engine 24x7", timezone="UTC")
        yield Engine(world_a, agreement, revision, service, other, berlin, always)


@pytest.fixture
def bound(engine):
    with schema_context(TENANT_A.schema):
        engine.objective("availability", "availability", "99.9", calendar=engine.always)
        engine.objective(
            "response", "response_time", "90", calendar=engine.berlin, threshold_seconds=3600
        )
        engine.bind()
        engine.outage("big", utc(2026, 4, 10), utc(2026, 4, 10, 3))
    return engine

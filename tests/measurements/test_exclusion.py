"""Excluding and reinstating tickets and outages: managers only, a reason, events customers read."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context

from apps.measurements.exclusion import measurement_exclude
from apps.measurements.ingestion import outage_ingest, ticket_ingest
from apps.measurements.models import ExclusionEvent, Outage, Ticket
from tests.conftest import TENANT_A, api_as
from tests.measurements.conftest import outage, ticket

SETUP = {
    "tickets": (ticket, ticket_ingest, Ticket),
    "outages": (outage, outage_ingest, Outage),
}


def _own(world, resource: str) -> int:
    build, ingest, _ = SETUP[resource]
    with schema_context(TENANT_A.schema):
        item = build("E-1", world.service.pk, customer=world.party_x.pk)
        return ingest(items=[item], acting_user=world.manager).ids[0]


@pytest.mark.parametrize("resource", SETUP)
def test_manager_excludes_and_reinstates_and_the_customer_reads_why(resource, world_a, api_a):
    pk = _own(world_a, resource)
    url = f"/api/v1/{resource}/{pk}/"
    with schema_context(TENANT_A.schema):
        api_as(api_a, world_a.manager)

    excluded = api_a.post(f"{url}exclude/", {"reason": "Customer's firewall change"})

    assert excluded.status_code == 200, excluded.content
    body = excluded.json()
    assert body["excluded"] is True
    assert body["exclusion_reason"] == "Customer's firewall change"
    assert body["excluded_by"] == world_a.manager.username
    assert body["excluded_at"]

    again = api_a.post(f"{url}exclude/", {"reason": "twice"})
    assert again.status_code == 400
    assert "already excluded" in again.json()["non_field_errors"][0]

    reinstated = api_a.post(f"{url}reinstate/", {"reason": "Firewall was ours after all"})
    assert reinstated.status_code == 200, reinstated.content
    assert reinstated.json()["excluded"] is False
    assert reinstated.json()["excluded_by"] is None

    with schema_context(TENANT_A.schema):
        api_as(api_a, world_a.customer_x)
    events = api_a.get(url).json()["exclusion_events"]
    assert [(e["excluded"], e["reason"], e["by"]) for e in events] == [
        (False, "Firewall was ours after all", world_a.manager.username),
        (True, "Customer's firewall change", world_a.manager.username),
    ]
    assert all(e["at"] for e in events)


@pytest.mark.parametrize("resource", SETUP)
def test_a_reason_is_required(resource, world_a, api_a):
    pk = _own(world_a, resource)
    with schema_context(TENANT_A.schema):
        api_as(api_a, world_a.manager)

    for payload in ({}, {"reason": ""}, {"reason": "   "}):
        response = api_a.post(f"/api/v1/{resource}/{pk}/exclude/", payload)
        assert response.status_code == 400
        assert "reason" in response.json()
    with schema_context(TENANT_A.schema):
        assert not SETUP[resource][2].objects.get(pk=pk).excluded
        assert not ExclusionEvent.objects.exists()


@pytest.mark.parametrize("resource", SETUP)
def test_only_provider_managers_decide(resource, world_a, api_a):
    pk = _own(world_a, resource)
    url = f"/api/v1/{resource}/{pk}/exclude/"

    # Customer X sees its measurement and staff without a manager's role see all: 403.
    # Customer Y does not see it at all: 404, as for reading it.
    for user, refused in (
        (world_a.customer_x, 403),
        (world_a.staff, 403),
        (world_a.customer_y, 404),
    ):
        with schema_context(TENANT_A.schema):
            api_as(api_a, user)
        assert api_a.post(url, {"reason": "mine"}).status_code == refused

    with schema_context(TENANT_A.schema):
        assert not ExclusionEvent.objects.exists()
        api_as(api_a, world_a.manager)
    assert api_a.post(url, {"reason": "ok"}).status_code == 200


def test_other_customer_cannot_see_the_events(world_a, api_a):
    pk = _own(world_a, "tickets")
    with schema_context(TENANT_A.schema):
        measurement_exclude(
            measurement=Ticket.objects.get(pk=pk), reason="planned", acting_user=world_a.manager
        )
        api_as(api_a, world_a.customer_y)
    assert api_a.get(f"/api/v1/tickets/{pk}/").status_code == 404


def test_repeated_ingestion_keeps_the_exclusion(world_a, manager_api):
    pk = _own(world_a, "tickets")
    manager_api.post(f"/api/v1/tickets/{pk}/exclude/", {"reason": "duplicate of INC-7"})

    repeat = manager_api.post("/api/v1/tickets/", ticket("E-1", None, priority="P1"))

    assert repeat.json()["updated"] == 1
    body = manager_api.get(f"/api/v1/tickets/{pk}/").json()
    assert (body["excluded"], body["exclusion_reason"], body["priority"]) == (
        True,
        "duplicate of INC-7",
        "P1",
    )


def test_service_rules(world_a):
    pk = _own(world_a, "tickets")
    with schema_context(TENANT_A.schema):
        target = Ticket.objects.get(pk=pk)
        with pytest.raises(PermissionDenied):
            measurement_exclude(measurement=target, reason="x", acting_user=world_a.staff)
        with pytest.raises(ValidationError):
            measurement_exclude(measurement=target, reason="", acting_user=world_a.manager)
        event = measurement_exclude(measurement=target, reason="x", acting_user=world_a.admin)
        assert (event.ticket_id, event.outage_id, event.by) == (pk, None, world_a.admin)
        assert target.excluded and target.excluded_by == world_a.admin

"""Who reads and writes measurements (STYLE.md cast), and the read-back filters.

Customer X sees measurements of party X, and those without a customer on a
service one of X's agreements covers; never Y's (404), never a write (403).
Another tenant's token is unknown here (401) and B's manager sees nothing of
A on B's host; anonymous gets 401.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django_tenants.utils import schema_context

from apps.agreements.models import Service
from apps.measurements.ingestion import outage_ingest, sample_ingest, ticket_ingest
from tests.conftest import TENANT_A, TENANT_B, World, api_as
from tests.factories import ServiceFactory
from tests.measurements.conftest import outage, sample, ticket

BUILD = {"tickets": ticket, "outages": outage, "samples": sample}
INGEST = {"tickets": ticket_ingest, "outages": outage_ingest, "samples": sample_ingest}
RESOURCES = list(BUILD)


@dataclass
class Measurements:
    own: int  # customer X
    shared: int  # no customer, on a service agreement X covers
    other: int  # customer Y
    uncovered: int  # no customer, on a service no agreement of X covers


def _seed(world: World, resource: str) -> Measurements:
    lone_service = ServiceFactory(name=f"Lone service {world.tenant.slug}")
    build, service = BUILD[resource], world.service.pk
    items = [
        build("own", service, customer=world.party_x.pk),
        build("shared", service),
        build("other", service, customer=world.party_y.pk),
        build("uncovered", lone_service.pk),
    ]
    ids = INGEST[resource](items=items, acting_user=world.manager).ids
    return Measurements(*ids)


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


@pytest.mark.parametrize("resource", RESOURCES)
def test_customer_sees_own_and_covered_only_and_never_writes(resource, world_a, api_a):
    world = world_a
    with schema_context(TENANT_A.schema):
        seen = _seed(world, resource)
        api_as(api_a, world.customer_x)

    # Prove the negative first: Y's and the uncovered measurement do not exist for X.
    assert api_a.get(f"/api/v1/{resource}/{seen.other}/").status_code == 404
    assert api_a.get(f"/api/v1/{resource}/{seen.uncovered}/").status_code == 404
    assert _ids(api_a.get(f"/api/v1/{resource}/")) == {seen.own, seen.shared}
    assert api_a.get(f"/api/v1/{resource}/{seen.own}/").status_code == 200
    assert api_a.get(f"/api/v1/{resource}/{seen.shared}/").status_code == 200

    item = BUILD[resource]("by-customer", world.service.pk, customer=world.party_x.pk)
    assert api_a.post(f"/api/v1/{resource}/", item).status_code == 403
    assert api_a.post(f"/api/v1/{resource}/", [item]).status_code == 403

    with schema_context(TENANT_A.schema):
        api_as(api_a, world.customer_y)
    assert _ids(api_a.get(f"/api/v1/{resource}/")) == {seen.other}
    assert api_a.get(f"/api/v1/{resource}/{seen.own}/").status_code == 404


@pytest.mark.parametrize("resource", RESOURCES)
def test_manager_writes_and_reads_everything(resource, world_a, api_a):
    item = BUILD[resource]("m-1", world_a.service.pk, customer=world_a.party_y.pk)
    with schema_context(TENANT_A.schema):
        api_as(api_a, world_a.customer_x)
    assert api_a.post(f"/api/v1/{resource}/", item).status_code == 403

    with schema_context(TENANT_A.schema):
        api_as(api_a, world_a.manager)
    created = api_a.post(f"/api/v1/{resource}/", item)
    assert created.status_code == 201, created.content
    pk = created.json()["ids"][0]
    assert pk in _ids(api_a.get(f"/api/v1/{resource}/"))
    assert api_a.get(f"/api/v1/{resource}/{pk}/").json()["external_id"] == "m-1"


@pytest.mark.parametrize("resource", RESOURCES)
def test_other_tenant_reaches_nothing(resource, world_a, world_b, api_a, api_b):
    with schema_context(TENANT_A.schema):
        seen = _seed(world_a, resource)
    with schema_context(TENANT_B.schema):
        api_as(api_b, world_b.manager)
        token_b = api_b._credentials["HTTP_AUTHORIZATION"]

    # B's token is unknown on A's host: no read, no write.
    api_a.credentials(HTTP_AUTHORIZATION=token_b)
    assert api_a.get(f"/api/v1/{resource}/").status_code == 401
    assert api_a.get(f"/api/v1/{resource}/{seen.own}/").status_code == 401
    item = BUILD[resource]("from-b", world_a.service.pk)
    assert api_a.post(f"/api/v1/{resource}/", item).status_code == 401

    # On its own host B's manager sees B's data only: none of A's rows.
    assert _ids(api_b.get(f"/api/v1/{resource}/")) == set()
    for pk in (seen.own, seen.shared, seen.other):
        assert api_b.get(f"/api/v1/{resource}/{pk}/").status_code == 404
    # A's service id means nothing in B: unknown there (400), or one of B's own services.
    with schema_context(TENANT_B.schema):
        taken_in_b = Service.objects.filter(pk=world_a.service.pk).exists()
    posted = api_b.post(f"/api/v1/{resource}/", BUILD[resource]("x", world_a.service.pk))
    assert posted.status_code == (201 if taken_in_b else 400), posted.content


@pytest.mark.parametrize("resource", RESOURCES)
def test_anonymous_gets_401(resource, world_a, api_a):
    with schema_context(TENANT_A.schema):
        seen = _seed(world_a, resource)

    assert api_a.get(f"/api/v1/{resource}/").status_code == 401
    assert api_a.get(f"/api/v1/{resource}/{seen.own}/").status_code == 401
    assert api_a.post(f"/api/v1/{resource}/", [BUILD[resource]("a", None)]).status_code == 401
    if resource != "samples":
        exclude = api_a.post(f"/api/v1/{resource}/{seen.own}/exclude/", {"reason": "x"})
        assert exclude.status_code == 401


def test_staff_without_manager_role_may_ingest(world_a, api_a):
    with schema_context(TENANT_A.schema):
        api_as(api_a, world_a.staff)
    assert api_a.post("/api/v1/tickets/", ticket("by-staff", None)).status_code == 201


def test_ticket_filters(world_a, manager_api):
    service = world_a.service.pk
    bare = {"first_response_at": None, "resolved_at": None, "closed_at": None, "pauses": []}
    items = [
        ticket("early", service, opened_at="2026-09-30T21:59:00Z", **bare),
        ticket(
            "late",
            service,
            opened_at="2026-10-01T00:00:00+02:00",
            customer=world_a.party_x.pk,
            **bare,
        ),
        ticket("none", None, opened_at="2026-11-01T00:00:00Z", priority="P1", **bare),
    ]
    ids = dict(
        zip(
            ["early", "late", "none"],
            manager_api.post("/api/v1/tickets/", items).json()["ids"],
            strict=True,
        )
    )

    def listed(query: str) -> set[str]:
        response = manager_api.get(f"/api/v1/tickets/?{query}")
        assert response.status_code == 200, response.content
        return {item["external_id"] for item in response.json()["results"]}

    assert listed(f"service={service}") == {"early", "late"}
    assert listed(f"customer={world_a.party_x.pk}") == {"late"}
    assert listed("priority=P1") == {"none"}
    # "+" left unencoded arrives as a space and is restored; "%2B" and "Z" work as sent.
    assert listed("opened_after=2026-10-01T00:00:00+02:00") == {"late", "none"}
    assert listed(
        "opened_after=2026-10-01T00:00:00%2B02:00&opened_before=2026-10-02T00:00:00Z"
    ) == {"late"}
    assert listed("opened_before=2026-09-30T22:00:00Z") == {"early"}
    assert listed(f"external_id=none&service={service}") == set()
    assert ids["late"] in {
        item["id"] for item in manager_api.get("/api/v1/tickets/?excluded=false").json()["results"]
    }

    naive = manager_api.get("/api/v1/tickets/?opened_after=2026-10-01T00:00:00")
    assert naive.status_code == 400
    assert "UTC offset" in naive.content.decode()


def test_outage_and_sample_filters(world_a, manager_api):
    service = world_a.service.pk
    manager_api.post(
        "/api/v1/outages/",
        [
            outage("o1", service),
            outage("o2", service, start="2026-11-03T01:00:00Z", end=None, kind="planned"),
        ],
    )
    manager_api.post(
        "/api/v1/samples/",
        [sample("s1", service), sample("s2", service, metric="csat", at="2026-12-01T00:00:00Z")],
    )

    def listed(path: str) -> set[str]:
        return {item["external_id"] for item in manager_api.get(path).json()["results"]}

    assert listed("/api/v1/outages/?start_after=2026-11-01T00:00:00Z") == {"o2"}
    assert listed("/api/v1/outages/?start_before=2026-11-01T00:00:00Z") == {"o1"}
    assert listed("/api/v1/outages/?kind=planned") == {"o2"}
    assert listed("/api/v1/samples/?metric=csat") == {"s2"}
    assert listed("/api/v1/samples/?at_before=2026-11-01T00:00:00Z") == {"s1"}
    assert listed("/api/v1/samples/?at_after=2026-11-01T00:00:00Z") == {"s2"}

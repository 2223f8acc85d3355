"""Every CRUD resource, for the whole cast (STYLE.md): who sees and changes what.

provider manager: reads and writes everything of its tenant; customer X: reads
its own objects only (others are 404) and writes nothing (403); a user of
another tenant cannot authenticate here (401) and reaches none of this
tenant's objects; anonymous: 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from apps.revisions.models import CreditTier
from apps.revisions.services import revision_approve, revision_create
from tests.conftest import TENANT_A, TENANT_B, World, api_as
from tests.factories import CalendarFactory, ObjectiveFactory, ServiceFactory


@dataclass
class Objects:
    own: object  # visible to customer X
    other: object  # belongs to customer Y


def _y_side(world: World) -> dict[str, object]:
    """Objects of customer Y: a service, an approved revision with objective, tier, calendar."""
    service_y = ServiceFactory(name=f"Y-only service {world.tenant.slug}")
    world.agreement_y.services.set([service_y])
    calendar_y = CalendarFactory(name=f"Y calendar {world.tenant.slug}")
    revision_y = revision_create(
        agreement=world.agreement_y, acting_user=world.manager, effective_from=date(2026, 1, 1)
    )
    objective_y = ObjectiveFactory(revision=revision_y, key="y_availability", calendar=calendar_y)
    tier_y = CreditTier.objects.create(
        revision=revision_y, objective=objective_y, below=Decimal("99"), percent=Decimal("5")
    )
    revision_approve(revision=revision_y, acting_user=world.manager)
    return {
        "service": service_y,
        "calendar": calendar_y,
        "revision": revision_y,
        "objective": objective_y,
        "tier": tier_y,
    }


RESOURCES = {
    "parties": lambda w, y: Objects(w.party_x, w.party_y),
    "services": lambda w, y: Objects(w.service, y["service"]),
    "agreements": lambda w, y: Objects(w.agreement_x, w.agreement_y),
    "revisions": lambda w, y: Objects(w.revision_x, y["revision"]),
    "calendars": lambda w, y: Objects(w.calendar, y["calendar"]),
    "objectives": lambda w, y: Objects(w.objective_x, y["objective"]),
    "credit-tiers": lambda w, y: Objects(w.tier_x, y["tier"]),
}


@pytest.fixture
def setup_a(world_a):
    with schema_context(TENANT_A.schema):
        return world_a, _y_side(world_a)


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


@pytest.mark.parametrize("resource", RESOURCES)
def test_provider_manager_reads_everything(resource, setup_a, api_a):
    world, y = setup_a
    objects = RESOURCES[resource](world, y)
    with schema_context(TENANT_A.schema):
        api_as(api_a, world.manager)

    listed = _ids(api_a.get(f"/api/v1/{resource}/"))

    assert {objects.own.pk, objects.other.pk} <= listed
    assert api_a.get(f"/api/v1/{resource}/{objects.other.pk}/").status_code == 200


@pytest.mark.parametrize("resource", RESOURCES)
def test_customer_sees_own_objects_only_and_reads_only(resource, setup_a, api_a):
    world, y = setup_a
    objects = RESOURCES[resource](world, y)
    with schema_context(TENANT_A.schema):
        api_as(api_a, world.customer_x)

    # Prove the negative first: the other customer's object does not exist for X.
    assert api_a.get(f"/api/v1/{resource}/{objects.other.pk}/").status_code == 404
    assert objects.other.pk not in _ids(api_a.get(f"/api/v1/{resource}/"))

    assert objects.own.pk in _ids(api_a.get(f"/api/v1/{resource}/"))
    assert api_a.get(f"/api/v1/{resource}/{objects.own.pk}/").status_code == 200
    assert api_a.post(f"/api/v1/{resource}/", {}, format="json").status_code == 403
    assert (
        api_a.patch(f"/api/v1/{resource}/{objects.own.pk}/", {}, format="json").status_code == 403
    )
    assert api_a.delete(f"/api/v1/{resource}/{objects.own.pk}/").status_code == 403


@pytest.mark.parametrize("resource", RESOURCES)
def test_other_tenant_reaches_nothing(resource, setup_a, world_b, api_a, api_b):
    world, y = setup_a
    objects = RESOURCES[resource](world, y)
    with schema_context(TENANT_B.schema):
        api_as(api_b, world_b.manager)
        token_b = api_b._credentials["HTTP_AUTHORIZATION"]

    # B's token is unknown on A's host.
    api_a.credentials(HTTP_AUTHORIZATION=token_b)
    assert api_a.get(f"/api/v1/{resource}/").status_code == 401
    assert api_a.get(f"/api/v1/{resource}/{objects.own.pk}/").status_code == 401

    # On its own host B's manager lists only B's objects. Ids are per schema: A's
    # object id is absent in B (404) or names a different, B-owned object (200).
    with schema_context(TENANT_B.schema):
        taken_in_b = type(objects.own).objects.filter(pk=objects.own.pk).exists()
    response = api_b.get(f"/api/v1/{resource}/{objects.own.pk}/")
    assert response.status_code == (200 if taken_in_b else 404)
    assert str(TENANT_A.slug) not in response.content.decode()
    listing = api_b.get(f"/api/v1/{resource}/?page_size=500").content.decode()
    assert f"{TENANT_A.slug}" not in listing


@pytest.mark.parametrize("resource", RESOURCES)
def test_anonymous_gets_401(resource, setup_a, api_a):
    world, y = setup_a
    objects = RESOURCES[resource](world, y)

    assert api_a.get(f"/api/v1/{resource}/").status_code == 401
    assert api_a.get(f"/api/v1/{resource}/{objects.own.pk}/").status_code == 401
    assert api_a.post(f"/api/v1/{resource}/", {}, format="json").status_code == 401


@pytest.mark.parametrize("resource", ["revisions", "objectives", "credit-tiers", "compliance"])
def test_filters_do_not_reveal_other_customers_ids(resource, setup_a, api_a):
    world, y = setup_a
    with schema_context(TENANT_A.schema):
        api_as(api_a, world.customer_x)
    param = {
        "revisions": "agreement",
        "objectives": "revision",
        "credit-tiers": "revision",
        "compliance": "agreement",
    }[resource]
    other = world.agreement_y.pk if param == "agreement" else y["revision"].pk

    existing = api_a.get(f"/api/v1/{resource}/?{param}={other}")
    missing = api_a.get(f"/api/v1/{resource}/?{param}=987654321")

    assert (existing.status_code, missing.status_code) == (200, 200)
    assert existing.json()["count"] == missing.json()["count"] == 0

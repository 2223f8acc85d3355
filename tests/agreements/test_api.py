"""/api/v1/agreements/: the contract shape of DESIGN §6, and field errors as 400."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.agreements.models import Agreement
from tests.conftest import TENANT_A


def _agreement_payload(world, **extra):
    return {
        "reference": "API-1",
        "title": "Via API",
        "provider": world.provider.pk,
        "customer": world.party_x.pk,
        "tier": "service",
        "parent": None,
        "services": [world.service.pk],
        "monthly_fee": "1000.00",
        "currency": "EUR",
        "requires_acceptance": True,
        "term_start": "2026-01-01",
        "term_end": None,
        "review_every_months": 12,
        "status": "active",
        **extra,
    }


def test_agreement_round_trip_in_the_contract_shape(world_a, manager_api):
    response = manager_api.post("/api/v1/agreements/", _agreement_payload(world_a), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    for name, value in _agreement_payload(world_a).items():
        assert body[name] == value, name
    assert body["kind"] == "customer" and body["revision_count"] == 0


def test_agreement_errors_are_field_messages_and_write_nothing(world_a, manager_api):
    response = manager_api.post(
        "/api/v1/agreements/",
        _agreement_payload(
            world_a,
            monthly_fee="10.005",
            term_end="2025-01-01",
            provider=world_a.party_x.pk,
            tier="galaxy",
        ),
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) >= {"tier"}
    with schema_context(TENANT_A.schema):
        assert not Agreement.objects.filter(reference="API-1").exists()

    response = manager_api.post(
        "/api/v1/agreements/",
        _agreement_payload(
            world_a, monthly_fee="10.005", term_end="2025-01-01", provider=world_a.party_x.pk
        ),
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"monthly_fee", "term_end", "provider"}


def test_revision_count_does_not_reveal_drafts_to_customers(world_a, manager_api):
    from rest_framework.test import APIClient

    from apps.revisions.services import revision_new_draft
    from tests.conftest import api_as

    with schema_context(TENANT_A.schema):
        revision_new_draft(revision=world_a.revision_x, acting_user=world_a.manager)
        customer = api_as(APIClient(HTTP_HOST=TENANT_A.host), world_a.customer_x)
    url = f"/api/v1/agreements/{world_a.agreement_x.pk}/"

    assert manager_api.get(url).json()["revision_count"] == 2  # staff count the draft
    assert customer.get(url).json()["revision_count"] == 1  # the customer does not

"""API writes: shapes of DESIGN §6, field errors as 400, the revision workflow, history."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.agreements.models import Agreement
from apps.calendars.models import Calendar
from apps.revisions.models import Revision
from tests.conftest import TENANT_A, api_as


@pytest.fixture
def manager_api(world_a, api_a):
    with schema_context(TENANT_A.schema):
        api_as(api_a, world_a.manager)
    return api_a


@pytest.fixture
def customer_api(world_a, api_b):
    # A second client on A's host for the customer (api_b is only a spare instance here).
    from rest_framework.test import APIClient

    client = APIClient(HTTP_HOST=TENANT_A.host)
    with schema_context(TENANT_A.schema):
        api_as(client, world_a.customer_x)
    return client


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


def test_calendar_shape_and_validation(manager_api, world_a):
    payload = {
        "name": "Berlin",
        "timezone": "Europe/Berlin",
        "working_hours": [
            {"weekday": 0, "start": "08:00", "end": "12:00"},
            {"weekday": 0, "start": "13:00", "end": "24:00"},
        ],
        "holiday_country": "DE",
        "holiday_subdivision": "BE",
        "holidays": [{"date": "2026-12-24", "name": "Christmas Eve"}],
    }
    created = manager_api.post("/api/v1/calendars/", payload, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in payload} == payload
    assert body["is_24x7"] is False and body["version"] == 1

    bad = manager_api.post(
        "/api/v1/calendars/",
        {
            **payload,
            "name": "Bad",
            "timezone": "Nowhere/City",
            "holiday_country": "QQ",
            "working_hours": [
                {"weekday": 0, "start": "18:00", "end": "08:00"},
                {"weekday": 9, "start": "25:00", "end": "26:00"},
            ],
        },
        format="json",
    )
    assert bad.status_code == 400
    errors = bad.json()
    assert "timezone" in errors and "working_hours" in errors
    with schema_context(TENANT_A.schema):
        assert not Calendar.objects.filter(name="Bad").exists()

    overlapping = manager_api.post(
        "/api/v1/calendars/",
        {
            **payload,
            "name": "Overlap",
            "working_hours": [
                {"weekday": 1, "start": "08:00", "end": "12:00"},
                {"weekday": 1, "start": "11:00", "end": "14:00"},
            ],
        },
        format="json",
    )
    assert overlapping.status_code == 400
    assert "overlaps" in str(overlapping.json()["working_hours"])


def test_revision_workflow_through_the_api(world_a, manager_api, customer_api):
    revision_1 = world_a.revision_x.pk
    # New draft copies objectives; change the target; approve; customer accepts.
    draft = manager_api.post(
        f"/api/v1/revisions/{revision_1}/new-draft/",
        {"effective_from": "2026-03-01"},
        format="json",
    )
    assert draft.status_code == 201, draft.content
    draft_id = draft.json()["id"]
    assert draft.json()["number"] == 2 and draft.json()["status"] == "draft"

    # Customers never see drafts.
    assert customer_api.get(f"/api/v1/revisions/{draft_id}/").status_code == 404

    objective = manager_api.get(f"/api/v1/objectives/?revision={draft_id}").json()["results"][0]
    changed = manager_api.patch(
        f"/api/v1/objectives/{objective['id']}/", {"target": "99.95"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["target"] == "99.9500"
    sections = manager_api.patch(
        f"/api/v1/revisions/{draft_id}/",
        {"sections": {"overview": "New text"}, "summary": "Tighter"},
        format="json",
    )
    assert sections.status_code == 200 and sections.json()["sections"] == {"overview": "New text"}

    # A customer cannot approve.
    assert customer_api.post(f"/api/v1/revisions/{draft_id}/approve/").status_code in (403, 404)
    approved = manager_api.post(f"/api/v1/revisions/{draft_id}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    # The provider cannot accept for the customer.
    assert manager_api.post(f"/api/v1/revisions/{draft_id}/accept/").status_code == 403
    accepted = customer_api.post(f"/api/v1/revisions/{draft_id}/accept/")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted" and accepted.json()["is_binding"]
    assert customer_api.get(f"/api/v1/revisions/{revision_1}/").json()["status"] == "superseded"

    diff = customer_api.get(f"/api/v1/revisions/{draft_id}/diff/?against={revision_1}")
    assert diff.status_code == 200
    assert diff.json()["objectives"]["changed"] == [
        {"key": "availability", "changes": {"target": {"old": "99.9", "new": "99.95"}}}
    ]
    assert diff.json()["sections"][0]["key"] == "overview"

    # History names the people who acted through the API.
    with schema_context(TENANT_A.schema):
        users = [
            r.history_user for r in Revision.history.filter(id=draft_id).order_by("history_date")
        ]
        assert users[-2:] == [world_a.manager, world_a.customer_x]


def test_approved_revision_cannot_change_through_the_api(world_a, manager_api):
    revision = world_a.revision_x.pk
    response = manager_api.patch(
        f"/api/v1/revisions/{revision}/", {"summary": "edit"}, format="json"
    )
    assert response.status_code == 400
    assert "new draft" in str(response.json())

    objective = world_a.objective_x.pk
    response = manager_api.patch(f"/api/v1/objectives/{objective}/", {"target": "1"}, format="json")
    assert response.status_code == 400
    assert manager_api.delete(f"/api/v1/revisions/{revision}/").status_code == 400
    with schema_context(TENANT_A.schema):
        assert Revision.objects.get(pk=revision).summary == ""


def test_bad_revision_input(world_a, manager_api):
    response = manager_api.post(
        "/api/v1/revisions/",
        {
            "agreement": world_a.agreement_y.pk,
            "effective_from": "2026-01-15",
            "sections": {"overview": "x", "poetry": "y"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"sections"}

    response = manager_api.post(
        "/api/v1/revisions/",
        {
            "agreement": world_a.agreement_y.pk,
            "effective_from": "2026-01-15",
        },
        format="json",
    )
    assert response.status_code == 400 and "effective_from" in response.json()

    diff = manager_api.get(f"/api/v1/revisions/{world_a.revision_x.pk}/diff/?against=abc")
    assert diff.status_code == 400 and "against" in diff.json()


def test_objective_errors_name_the_field(world_a, manager_api):
    draft = manager_api.post(
        f"/api/v1/revisions/{world_a.revision_x.pk}/new-draft/", format="json"
    ).json()
    response = manager_api.post(
        "/api/v1/objectives/",
        {
            "revision": draft["id"],
            "key": "resp",
            "metric": "response_time",
            "target": "90",
            "comparison": "gte",
            "threshold_seconds": None,
            "aggregate": None,
            "sample_metric": None,
            "period": "month",
            "calendar": None,
            "service": None,
            "priority": "P1",
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"threshold_seconds"}


def test_deleting_a_party_in_use_is_a_clear_400(world_a, manager_api):
    response = manager_api.delete(f"/api/v1/parties/{world_a.party_x.pk}/")
    assert response.status_code == 400
    assert "Still referred to" in str(response.json())


def test_openapi_schema_lists_every_endpoint(manager_api):
    schema = manager_api.get("/api/schema/?format=json").json()
    paths = set(schema["paths"])
    for expected in [
        "/api/v1/agreements/",
        "/api/v1/revisions/{id}/approve/",
        "/api/v1/revisions/{id}/accept/",
        "/api/v1/revisions/{id}/new-draft/",
        "/api/v1/revisions/{id}/diff/",
        "/api/v1/calendars/",
        "/api/v1/objectives/",
        "/api/v1/credit-tiers/",
        "/api/v1/parties/",
        "/api/v1/services/",
        "/api/v1/auth/token/",
    ]:
        assert expected in paths

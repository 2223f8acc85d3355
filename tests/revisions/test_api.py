"""/api/v1/revisions/ and /api/v1/objectives/: the workflow, field errors as 400, history."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.revisions.models import Revision
from tests.conftest import TENANT_A, api_as


@pytest.fixture
def customer_api(world_a):
    """Customer X's client of its own, so it can be used beside ``manager_api``."""
    client = APIClient(HTTP_HOST=TENANT_A.host)
    with schema_context(TENANT_A.schema):
        api_as(client, world_a.customer_x)
    return client


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

    # A customer cannot approve: a draft out of the customer's sight is a 404, as for
    # reading it (and as for an id that does not exist); a revision in sight is a 403.
    assert customer_api.post(f"/api/v1/revisions/{draft_id}/approve/").status_code == 404
    assert customer_api.post("/api/v1/revisions/999999/approve/").status_code == 404
    assert customer_api.post(f"/api/v1/revisions/{revision_1}/approve/").status_code == 403
    approved = manager_api.post(f"/api/v1/revisions/{draft_id}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    # The provider cannot accept for the customer.
    assert manager_api.post(f"/api/v1/revisions/{draft_id}/accept/").status_code == 403
    accepted = customer_api.post(
        f"/api/v1/revisions/{draft_id}/accept/", REMOTE_ADDR="198.51.100.20"
    )
    assert accepted.status_code == 200, accepted.content
    with schema_context(TENANT_A.schema):  # recorded with the address, as in the portal
        assert Revision.objects.get(pk=draft_id).accepted_from == "198.51.100.20"
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
    assert manager_api.delete(f"/api/v1/revisions/{revision}/").status_code == 409  # state
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

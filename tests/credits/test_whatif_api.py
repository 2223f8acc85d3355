"""POST /api/v1/revisions/{id}/what-if/: the cast (STYLE.md), the contract shape, bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.calendars.periods import parse_period
from apps.compliance.models import ComplianceResult
from apps.credits.settlement import period_settle
from apps.revisions.models import Revision
from apps.revisions.services import objective_save, revision_approve, revision_new_draft
from tests.conftest import TENANT_A, TENANT_B, api_as
from tests.support.engine import client_for

NOW = "2026-11-15T10:00:00+00:00"
BODY = {"from": "2026-03", "to": "2026-05"}


@pytest.fixture
def tried(bound):
    """bound (availability 99.9 with a 10 % tier below 99.9; 3 h down in April) settled for
    March to May, and a draft from its revision with availability 99.5 instead."""
    with schema_context(TENANT_A.schema), time_machine.travel(NOW, tick=False):
        for month in ("2026-03", "2026-04", "2026-05"):
            period_settle(agreements=[bound.agreement], period=parse_period(month))
        draft = revision_new_draft(
            revision=bound.revision,
            acting_user=bound.world.manager,
            effective_from=date(2027, 1, 1),
        )
        objective_save(
            objective=draft.objectives.get(key="availability"),
            acting_user=bound.world.manager,
            target=Decimal("99.5"),
        )
    bound.draft = draft
    return bound


def _url(revision) -> str:
    return f"/api/v1/revisions/{revision.pk}/what-if/"


@time_machine.travel(NOW, tick=False)
def test_provider_staff_get_the_periods_objectives_and_totals(tried):
    manager = client_for(tried.world.manager)

    response = manager.post(_url(tried.draft), BODY, format="json")

    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["revision"], data["agreement"]) == (tried.draft.pk, tried.agreement.pk)
    assert (data["from"], data["to"]) == ("2026-03", "2026-05")
    assert [line["period"] for line in data["periods"]] == ["2026-03", "2026-04", "2026-05"]
    april = {item["key"]: item for item in data["periods"][1]["objectives"]}["availability"]
    assert april["actual"]["status"] == "missed" and april["what_if"]["status"] == "met"
    assert april["what_if"]["attained"] == "99.5833" and april["what_if"]["target"] == "99.5000"
    assert april["actual"]["target"] == "99.9000" and april["changed"] is True
    assert april["what_if"]["amount"] == "0.00" and april["what_if"]["calendar"] == "Engine 24x7"
    assert data["totals"] == [
        {"currency": "EUR", "what_if": "0.00", "actual": "0.00", "difference": "0.00"}
    ]  # bound has no credit tiers: nothing is credited either way
    labels = {item["key"]: item["calendar_label"] for item in data["objectives"]}
    assert labels["availability"] == "Engine 24x7 — set on the objective"
    with schema_context(TENANT_A.schema):
        assert ComplianceResult.objects.filter(revision=tried.draft).count() == 0


@time_machine.travel(NOW, tick=False)
def test_customers_get_404_for_drafts_and_other_customers_revisions(tried):
    customer_x = client_for(tried.world.customer_x)
    customer_y = client_for(tried.world.customer_y)

    # Prove the negative first: a draft is invisible to the customer, even their own.
    assert customer_x.post(_url(tried.draft), BODY, format="json").status_code == 404
    with schema_context(TENANT_A.schema):
        revision_approve(revision=tried.draft, acting_user=tried.world.manager)

    assert customer_y.post(_url(tried.draft), BODY, format="json").status_code == 404
    response = customer_x.post(_url(tried.draft), BODY, format="json")
    assert response.status_code == 200, response.content
    # The revision in force needs no decision: not for customers.
    assert customer_x.post(_url(tried.revision), BODY, format="json").status_code == 404


def test_anonymous_gets_401(tried, api_a):
    assert api_a.post(_url(tried.draft), BODY, format="json").status_code == 401


@time_machine.travel(NOW, tick=False)
def test_the_other_tenant_reaches_nothing(tried, world_b, api_b):
    # A's manager's token is not a credential on B's host.
    with schema_context(TENANT_A.schema):
        foreign = api_as(APIClient(HTTP_HOST=TENANT_B.host), tried.world.manager)
    assert foreign.post(_url(tried.draft), BODY, format="json").status_code == 401
    # B's manager on B's host: the id is looked up in B only (B's own revision, or none).
    with schema_context(TENANT_B.schema):
        api_as(api_b, world_b.manager)
        same_id_in_b = Revision.objects.filter(pk=tried.draft.pk).first()
    response = api_b.post(_url(tried.draft), BODY, format="json")
    if same_id_in_b is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 200
        assert response.json()["agreement"] == same_id_in_b.agreement_id


@time_machine.travel(NOW, tick=False)
def test_bad_ranges_are_400_with_field_messages(tried):
    manager = client_for(tried.world.manager)
    url = _url(tried.draft)
    for body, field in [
        ({"from": "2026-10", "to": "2026-01"}, "to"),
        ({"from": "2024-01", "to": "2026-12"}, "to"),
        ({"from": "2026-13", "to": "2026-12"}, "from"),
        ({"from": "1969-01", "to": "1969-02"}, "from"),
        ({"from": "2026-01"}, "to"),
        ({"from": "2026-01", "to": "2026-02", "extra": 1}, "extra"),
        ({"from": None, "to": "2026-02"}, "from"),
    ]:
        response = manager.post(url, body, format="json")
        assert response.status_code == 400, body
        assert field in response.json(), (body, response.json())
    assert manager.post(url, [1, 2], format="json").status_code == 400
    assert manager.post("/api/v1/revisions/999999/what-if/", BODY, format="json").status_code == 404


def test_the_operation_is_in_the_openapi_schema(manager_api):
    schema = manager_api.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/revisions/{id}/what-if/"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/WhatIfRequest"
    )
    assert set(operation["responses"]) >= {"200", "400", "401", "404"}
    request = schema["components"]["schemas"]["WhatIfRequest"]
    assert set(request["required"]) == {"from", "to"}
    response = schema["components"]["schemas"]["WhatIfResponse"]
    assert {"periods", "totals", "objectives"} <= set(response["properties"])

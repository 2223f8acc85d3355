"""Compliance endpoints: the results list and the at-risk report, for the whole cast."""

from __future__ import annotations

import time_machine
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from tests.conftest import TENANT_A, TENANT_B
from tests.support.engine import client_for, utc


def test_compliance_list_is_scoped(bound, world_b):
    client_for(bound.world.manager).post(
        f"/api/v1/agreements/{bound.agreement.pk}/evaluate/", {"period": "2026-04"}, format="json"
    )
    own = client_for(bound.world.customer_x)
    other = client_for(bound.world.customer_y)

    listed = own.get(f"/api/v1/compliance/?agreement={bound.agreement.pk}&period=2026-04")
    assert listed.status_code == 200
    results = listed.json()["results"]
    assert {r["key"] for r in results} == {"availability", "response"}
    result_id = results[0]["id"]

    assert other.get(f"/api/v1/compliance/?agreement={bound.agreement.pk}").json()["count"] == 0
    assert other.get(f"/api/v1/compliance/{result_id}/").status_code == 404
    with schema_context(TENANT_B.schema):
        other_tenant = client_for(world_b.manager, TENANT_B.host, TENANT_B.schema)
    token = other_tenant._credentials["HTTP_AUTHORIZATION"]
    stranger = APIClient(HTTP_HOST=TENANT_A.host)
    stranger.credentials(HTTP_AUTHORIZATION=token)
    assert stranger.get("/api/v1/compliance/").status_code == 401
    assert APIClient(HTTP_HOST=TENANT_A.host).get("/api/v1/compliance/").status_code == 401


def test_at_risk_reports_budget_and_tickets(bound):
    now = utc(2026, 4, 14, 8, 30)  # Tuesday 10:30 Berlin
    with schema_context(TENANT_A.schema):
        bound.ticket("old", utc(2026, 4, 14, 7))  # 09:00 Berlin: deadline 10:00, past
        bound.ticket("new", utc(2026, 4, 14, 8, 15))  # deadline 11:15: within 2 h
        bound.ticket("answered", utc(2026, 4, 14, 8), first_response_at=utc(2026, 4, 14, 8, 5))
    manager = client_for(bound.world.manager)

    with time_machine.travel(now, tick=False):
        response = manager.get(f"/api/v1/agreements/{bound.agreement.pk}/at-risk/?horizon=7200")

    assert response.status_code == 200, response.content
    body = response.json()
    budget = next(b for b in body["budgets"] if b["period"] == "2026-04")
    assert budget["window_seconds"] == 30 * 86400
    assert budget["allowed_seconds"] == int(30 * 86400 * 0.001)
    assert budget["downtime_seconds"] == 3 * 3600
    assert budget["left_seconds"] == budget["allowed_seconds"] - 3 * 3600
    tickets = {t["ticket"]: t for t in body["tickets"]}
    assert set(tickets) == {"old", "new"}
    assert tickets["old"]["seconds_left"] == -30 * 60
    assert tickets["new"]["seconds_left"] == 45 * 60
    assert (
        manager.get(f"/api/v1/agreements/{bound.agreement.pk}/at-risk/?horizon=x").status_code
        == 400
    )

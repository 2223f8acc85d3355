"""Engine endpoints: evaluate, compliance, at-risk, the clock — for the whole cast."""

from __future__ import annotations

import pytest
import time_machine
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from tests.conftest import TENANT_A, TENANT_B, api_as
from tests.engine.conftest import utc


def client_for(user, host=TENANT_A.host, schema=TENANT_A.schema) -> APIClient:
    client = APIClient(HTTP_HOST=host)
    with schema_context(schema):
        api_as(client, user)
    return client


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


def test_evaluate_returns_the_contract_shape(bound):
    manager = client_for(bound.world.manager)

    response = manager.post(
        f"/api/v1/agreements/{bound.agreement.pk}/evaluate/", {"period": "2026-04"}, format="json"
    )

    assert response.status_code == 200, response.content
    by_key = {r["key"]: r for r in response.json()}
    availability = by_key["availability"]
    for name in (
        "objective",
        "key",
        "metric",
        "period",
        "target",
        "attained",
        "status",
        "data_points",
        "revision",
    ):
        assert name in availability
    assert availability["status"] == "missed" and availability["period"] == "2026-04"
    assert availability["revision"] == bound.revision.pk
    assert by_key["response"]["status"] == "no_data"


def test_evaluate_is_for_provider_staff_and_validates_the_period(bound):
    customer = client_for(bound.world.customer_x)
    manager = client_for(bound.world.manager)
    url = f"/api/v1/agreements/{bound.agreement.pk}/evaluate/"

    assert customer.post(url, {"period": "2026-04"}, format="json").status_code == 403
    for bad in ("2026-13", "2026-Q5", "April", ""):
        response = manager.post(url, {"period": bad}, format="json")
        assert response.status_code == 400 and "period" in response.json(), bad


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


def test_clock_endpoints(bound):
    manager = client_for(bound.world.manager)
    calendar = bound.berlin.pk

    elapsed = manager.post(
        f"/api/v1/calendars/{calendar}/elapsed/",
        {
            "start": "2026-04-10T17:00:00+02:00",
            "end": "2026-04-13T09:00:00+02:00",
            "pauses": [{"start": "2026-04-13T08:30:00+02:00", "end": "2026-04-13T08:45:00+02:00"}],
        },
        format="json",
    )
    assert elapsed.status_code == 200 and elapsed.json() == {"seconds": 7200 - 900}

    deadline = manager.post(
        f"/api/v1/calendars/{calendar}/deadline/",
        {"start": "2026-04-10T16:00:00+02:00", "seconds": 4 * 3600},
        format="json",
    )
    assert deadline.status_code == 200
    assert deadline.json() == {"deadline": "2026-04-13T10:00:00+02:00"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"start": "2026-04-10T17:00:00", "end": "2026-04-13T09:00:00+02:00"}, "start"),
        ({"start": "2026-04-10T17:00:00+02:00", "end": "2026-02-30T09:00:00+02:00"}, "end"),
        ({"start": "2026-04-13T17:00:00+02:00", "end": "2026-04-10T09:00:00+02:00"}, "end"),
        (
            {
                "start": "2026-04-10T17:00:00+02:00",
                "end": "2026-04-13T09:00:00+02:00",
                "pauses": [{"start": "2026-04-11T10:00:00+02:00", "end": "2026-04-11T09:00:00"}],
            },
            "pauses",
        ),
    ],
)
def test_clock_rejects_bad_timestamps(bound, payload, field):
    manager = client_for(bound.world.manager)

    response = manager.post(f"/api/v1/calendars/{bound.berlin.pk}/elapsed/", payload, format="json")

    assert response.status_code == 400 and field in response.json()


def test_clock_visibility(bound):
    with schema_context(TENANT_A.schema):
        from tests.factories import CalendarFactory

        private = CalendarFactory(name="Unused by X")
    customer = client_for(bound.world.customer_x)
    payload = {"start": "2026-04-10T17:00:00+02:00", "end": "2026-04-13T09:00:00+02:00"}

    assert (
        customer.post(
            f"/api/v1/calendars/{bound.berlin.pk}/elapsed/", payload, format="json"
        ).status_code
        == 200
    )
    assert (
        customer.post(
            f"/api/v1/calendars/{private.pk}/elapsed/", payload, format="json"
        ).status_code
        == 404
    )
    assert (
        APIClient(HTTP_HOST=TENANT_A.host)
        .post(f"/api/v1/calendars/{bound.berlin.pk}/elapsed/", payload, format="json")
        .status_code
        == 401
    )


def test_evaluate_compliance_command(bound, capsys):
    from django.core.management import CommandError, call_command

    call_command(
        "evaluate_compliance",
        "--tenant",
        TENANT_A.schema,
        "--period",
        "2026-04",
        "--agreement",
        str(bound.agreement.pk),
        "--no-progress",
    )
    assert "1 agreements evaluated" in capsys.readouterr().out
    with pytest.raises(CommandError, match="not a period"):
        call_command("evaluate_compliance", "--tenant", TENANT_A.schema, "--period", "26-4")
    with pytest.raises(CommandError, match="No tenant"):
        call_command("evaluate_compliance", "--tenant", "nosuch", "--period", "2026-04")


def test_periods_due_include_the_previous_period_during_grace():
    from apps.credits.tasks import periods_due

    assert periods_due(utc(2026, 11, 3)) == ["2026-11", "2026-10", "2026-Q4"]
    assert periods_due(utc(2026, 11, 21)) == ["2026-11", "2026-Q4"]
    assert periods_due(utc(2027, 1, 2)) == ["2027-01", "2026-12", "2027-Q1", "2026-Q4"]

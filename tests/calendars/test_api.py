"""/api/v1/calendars/: the contract shape and validation, and the clock (elapsed/, deadline/)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.calendars.models import Calendar
from tests.conftest import TENANT_A
from tests.factories import CalendarFactory
from tests.support.engine import client_for


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

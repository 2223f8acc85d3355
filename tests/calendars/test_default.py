"""The tenant's default calendar: one at most, moved by marking another; an agreement's
calendar; both in the API and the admin; customers may read the calendars that apply to them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from apps.calendars.models import Calendar
from apps.calendars.selectors import calendar_default
from apps.calendars.services import calendar_save
from tests.calendars.test_admin import _calendar_form
from tests.conftest import TENANT_A
from tests.factories import CalendarFactory
from tests.support.engine import client_for


@pytest.fixture
def a(world_a):
    with schema_context(TENANT_A.schema):
        yield world_a


def test_marking_a_calendar_the_default_takes_the_mark_from_the_old_one(a):
    first = calendar_save(acting_user=a.admin, name="First", timezone="UTC", is_default=True)
    assert calendar_default() == first

    second = calendar_save(acting_user=a.admin, name="Second", timezone="UTC", is_default=True)

    assert calendar_default() == second
    first.refresh_from_db()
    assert first.is_default is False
    assert first.history.first().history_user == a.admin  # the move is recorded
    calendar_save(calendar=second, acting_user=a.admin, is_default=False)
    assert calendar_default() is None


def test_the_database_refuses_a_second_default(a):
    CalendarFactory(name="One", is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarFactory(name="Two", is_default=True)


def test_the_api_marks_the_default(manager_api, world_a):
    with schema_context(TENANT_A.schema):
        old = CalendarFactory(name="Old default", is_default=True)

    created = manager_api.post(
        "/api/v1/calendars/",
        {"name": "New default", "timezone": "Europe/Berlin", "is_default": True},
        format="json",
    )

    assert created.status_code == 201, created.content
    assert created.json()["is_default"] is True
    assert manager_api.get(f"/api/v1/calendars/{old.pk}/").json()["is_default"] is False
    assert manager_api.post(
        "/api/v1/calendars/", {"name": "Bad", "timezone": "UTC", "is_default": "often"}
    ).json() == {"is_default": ["Must be a valid boolean."]}


def test_the_api_sets_an_agreements_calendar(manager_api, world_a):
    url = f"/api/v1/agreements/{world_a.agreement_x.pk}/"
    assert manager_api.get(url).json()["calendar"] is None

    changed = manager_api.patch(url, {"calendar": world_a.calendar.pk}, format="json")

    assert changed.status_code == 200, changed.content
    assert changed.json()["calendar"] == world_a.calendar.pk
    bad = manager_api.patch(url, {"calendar": 999999}, format="json")
    assert bad.status_code == 400 and "calendar" in bad.json()
    cleared = manager_api.patch(url, {"calendar": None}, format="json")
    assert cleared.status_code == 200 and cleared.json()["calendar"] is None


def test_customers_read_the_calendars_that_apply_to_them_only(world_a):
    with schema_context(TENANT_A.schema):
        office = CalendarFactory(name="X's office")
        elsewhere = CalendarFactory(name="Y's office")
        default = CalendarFactory(name="Default", is_default=True)
        world_a.agreement_x.calendar = office
        world_a.agreement_x.save()
        world_a.agreement_y.calendar = elsewhere
        world_a.agreement_y.save()
    customer_x = client_for(world_a.customer_x)

    listed = {item["name"] for item in customer_x.get("/api/v1/calendars/").json()["results"]}

    assert listed == {world_a.calendar.name, "X's office", "Default"}
    assert customer_x.get(f"/api/v1/calendars/{elsewhere.pk}/").status_code == 404
    assert customer_x.get(f"/api/v1/calendars/{default.pk}/").status_code == 200


def test_the_admin_edits_both(admin_client, world_a):
    with schema_context(TENANT_A.schema):
        old = CalendarFactory(name="Old default", is_default=True)
    agreement = admin_client.get(f"/admin/agreements/agreement/{world_a.agreement_x.pk}/change/")
    assert agreement.status_code == 200 and 'name="calendar"' in agreement.text

    # Ticking "default calendar" on another one moves the mark (no "already taken" error).
    added = admin_client.post(
        "/admin/calendars/calendar/add/",
        {**_calendar_form("New default", []), "is_default": "on"},
    )

    assert added.status_code == 302, added.content
    with schema_context(TENANT_A.schema):
        assert calendar_default() == Calendar.objects.get(name="New default")
        old.refresh_from_db()
        assert old.is_default is False

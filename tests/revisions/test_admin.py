"""The provider admin: read-only approved revisions, approve / new draft / diff, calendar editor."""

import pytest
from django_tenants.utils import schema_context

from apps.calendars.models import Calendar
from apps.revisions.models import Revision, RevisionStatus
from apps.revisions.services import revision_new_draft
from tests.conftest import TENANT_A, sign_in


@pytest.fixture
def admin_client(world_a, client_a):
    response = client_a.post(
        "/admin/login/",
        {"username": "admin_alpha", "password": "correct-horse-battery-staple", "next": "/admin/"},
    )
    assert response.status_code == 302
    return client_a


def test_approved_revision_opens_read_only_and_refuses_a_post(world_a, admin_client):
    url = f"/admin/revisions/revision/{world_a.revision_x.pk}/change/"
    page = admin_client.get(url)

    assert page.status_code == 200
    assert "can no longer change" in page.text
    assert 'name="_save"' not in page.text
    assert "New draft from this" in page.text

    forged = admin_client.post(url, {"summary": "forged", "effective_from": "2026-01-01"})
    assert forged.status_code == 403
    with schema_context(TENANT_A.schema):
        assert Revision.objects.get(pk=world_a.revision_x.pk).summary == ""


def test_admin_new_draft_approve_and_diff(world_a, admin_client):
    created = admin_client.post(f"/admin/revisions/revision/{world_a.revision_x.pk}/new-draft/")
    assert created.status_code == 302
    with schema_context(TENANT_A.schema):
        draft = Revision.objects.get(agreement=world_a.agreement_x, number=2)
        objective = draft.objectives.get()
        objective.target = "99.95"
        objective.save()
    assert created["Location"].endswith(f"/admin/revisions/revision/{draft.pk}/change/")

    diff = admin_client.get(f"/admin/revisions/revision/{draft.pk}/diff/")
    assert diff.status_code == 200
    assert "availability" in diff.text and "99.9" in diff.text and "99.95" in diff.text

    approved = admin_client.post(f"/admin/revisions/revision/{draft.pk}/approve/", follow=True)
    assert "Revision 2 approved." in approved.text
    with schema_context(TENANT_A.schema):
        assert Revision.objects.get(pk=draft.pk).status == RevisionStatus.APPROVED


def test_staff_without_manager_role_cannot_approve_in_admin(world_a, client_a):
    with schema_context(TENANT_A.schema):
        from apps.parties.services import provider_staff_group_ensure

        world_a.staff.set_password("staff-pass-123")
        world_a.staff.save()
        world_a.staff.groups.add(provider_staff_group_ensure())
        draft = revision_new_draft(revision=world_a.revision_x, acting_user=world_a.manager)
    client_a.post(
        "/admin/login/",
        {"username": world_a.staff.username, "password": "staff-pass-123", "next": "/admin/"},
    )

    response = client_a.post(f"/admin/revisions/revision/{draft.pk}/approve/", follow=True)

    assert "Only a provider manager may approve" in response.text
    with schema_context(TENANT_A.schema):
        assert Revision.objects.get(pk=draft.pk).status == RevisionStatus.DRAFT


def _calendar_form(name, ranges):
    data = {
        "name": name,
        "timezone": "Europe/Berlin",
        "holiday_country": "DE",
        "holiday_subdivision": "",
        "working_ranges-TOTAL_FORMS": str(len(ranges)),
        "working_ranges-INITIAL_FORMS": "0",
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
    }
    for index, (weekday, start, end) in enumerate(ranges):
        data.update(
            {
                f"working_ranges-{index}-weekday": str(weekday),
                f"working_ranges-{index}-start_minute": start,
                f"working_ranges-{index}-end_minute": end,
            }
        )
    return data


def test_calendar_editor_takes_hh_mm_and_refuses_overlaps(world_a, admin_client):
    bad = admin_client.post(
        "/admin/calendars/calendar/add/",
        _calendar_form("Overlap", [(0, "08:00", "12:00"), (0, "11:30", "18:00")]),
    )
    assert bad.status_code == 200 and "overlaps" in bad.text
    wrong = admin_client.post(
        "/admin/calendars/calendar/add/", _calendar_form("Wrong", [(0, "8 am", "12:00")])
    )
    assert wrong.status_code == 200 and "HH:MM" in wrong.text

    good = admin_client.post(
        "/admin/calendars/calendar/add/",
        _calendar_form("Office", [(0, "08:00", "12:00"), (0, "13:00", "24:00")]),
    )
    assert good.status_code == 302
    with schema_context(TENANT_A.schema):
        assert not Calendar.objects.filter(name__in=["Overlap", "Wrong"]).exists()
        office = Calendar.objects.get(name="Office")
        assert list(office.working_ranges.values_list("start_minute", "end_minute")) == [
            (480, 720),
            (780, 1440),
        ]


def test_admin_history_names_the_user(world_a, admin_client):
    page = admin_client.get(f"/admin/revisions/revision/{world_a.revision_x.pk}/history/")
    assert page.status_code == 200
    assert world_a.manager.username in page.text


def test_customer_cannot_use_the_admin(world_a, client_a):
    sign_in(client_a, "customer_x_alpha")
    response = client_a.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

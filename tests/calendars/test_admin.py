"""The provider admin's calendar editor: HH:MM hours, overlap checks, saved via calendar_save."""

from django_tenants.utils import schema_context

from apps.calendars.models import Calendar
from tests.conftest import TENANT_A


def _calendar_form(name, ranges, existing=()):
    """The editor's POST data: ``existing`` are (id, delete) of rows already saved, in order."""
    data = {
        "name": name,
        "timezone": "Europe/Berlin",
        "holiday_country": "DE",
        "holiday_subdivision": "",
        "working_ranges-TOTAL_FORMS": str(len(ranges)),
        "working_ranges-INITIAL_FORMS": str(len(existing)),
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
    for index, (pk, delete) in enumerate(existing):
        data[f"working_ranges-{index}-id"] = str(pk)
        if delete:
            data[f"working_ranges-{index}-DELETE"] = "on"
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
        # Saved through calendar_save: one version for the calendar with all its hours.
        assert office.version == 1
        rows = list(office.working_ranges.order_by("start_minute").values_list("pk", flat=True))

    changed = admin_client.post(
        f"/admin/calendars/calendar/{office.pk}/change/",
        _calendar_form(
            "Office",
            [(0, "08:00", "12:00"), (0, "13:00", "24:00")],
            existing=[(rows[0], False), (rows[1], True)],
        ),
    )
    assert changed.status_code == 302, changed.text
    with schema_context(TENANT_A.schema):
        office.refresh_from_db()
        assert list(office.working_ranges.values_list("start_minute", "end_minute")) == [(480, 720)]
        assert office.version == 2  # one bump per save, not one per changed row

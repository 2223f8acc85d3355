"""calendar_save: hours, holidays, validation of the whole calendar, and versioning."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from apps.calendars.models import Calendar
from apps.calendars.services import calendar_save

WEEK = [(d, 8 * 60, 18 * 60) for d in range(5)]


def test_calendar_with_hours_and_holidays(world):
    calendar = calendar_save(
        acting_user=world.admin,
        name="Berlin",
        timezone="Europe/Berlin",
        holiday_country="DE",
        holiday_subdivision="BE",
        working_hours=[*WEEK, (5, 9 * 60, 12 * 60)],
        holidays=[(date(2026, 12, 24), "Christmas Eve")],
    )

    assert calendar.working_ranges.count() == 6 and not calendar.is_24x7
    days = calendar.holiday_dates(range(2026, 2027))
    assert days[date(2026, 12, 24)] == "Christmas Eve"
    assert date(2026, 12, 25) in days  # from the holidays package
    assert date(2026, 3, 8) in days  # International Women's Day: Berlin only


def test_no_ranges_means_24x7(world):
    calendar = calendar_save(
        acting_user=world.admin, name="Always", timezone="UTC", working_hours=[]
    )
    assert calendar.is_24x7


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"holiday_country": "XX"}, "holiday_country", "supported"),
        (
            {"holiday_country": "DE", "holiday_subdivision": "ZZ"},
            "holiday_subdivision",
            "subdivision",
        ),
        ({"working_hours": [(0, 600, 540)]}, "working_hours", "start before it ends"),
        ({"working_hours": [(0, 480, 720), (0, 700, 900)]}, "working_hours", "overlaps"),
        ({"working_hours": [(7, 480, 720)]}, "working_hours", "weekday"),
        ({"working_hours": [(0, 0, 1441)]}, "working_hours", "24:00"),
        ({"holidays": [(date(2026, 1, 2), "a"), (date(2026, 1, 2), "b")]}, "holidays", "twice"),
    ],
)
def test_bad_calendars_are_refused_whole(world, data, field, message):
    data = {"timezone": "Europe/Berlin", **data}
    with pytest.raises(ValidationError) as excinfo:
        calendar_save(acting_user=world.admin, name="Bad", **data)

    assert message in " ".join(excinfo.value.message_dict[field])
    assert not Calendar.objects.filter(name="Bad").exists()


def test_every_change_bumps_the_version(world):
    calendar = calendar_save(acting_user=world.admin, name="V", timezone="UTC", working_hours=WEEK)
    assert calendar.version == 1
    calendar_save(calendar=calendar, acting_user=world.admin, working_hours=WEEK[:3])
    calendar_save(
        calendar=calendar, acting_user=world.admin, holidays=[(date(2026, 5, 1), "May Day")]
    )
    assert Calendar.objects.get(pk=calendar.pk).version == 3

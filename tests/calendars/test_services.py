"""Calendars (hours, holidays, validation, versioning), objectives and credit tiers."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.calendars.models import Calendar
from apps.calendars.services import calendar_save
from apps.revisions.models import Metric
from apps.revisions.services import credit_tier_save, objective_save, revision_new_draft


@pytest.fixture
def world(world_a, in_a):
    return world_a


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


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"metric": Metric.RESPONSE_TIME, "target": "90"}, "threshold_seconds"),
        ({"metric": Metric.AVAILABILITY, "target": "101"}, "target"),
        (
            {"metric": Metric.AVAILABILITY, "target": "99", "threshold_seconds": 60},
            "threshold_seconds",
        ),
        ({"metric": Metric.SAMPLE, "target": "250"}, "sample_metric"),
        ({"metric": Metric.TURNAROUND_TIME, "target": "3600", "aggregate": "sum"}, "aggregate"),
        ({"metric": Metric.CLOSURE_RATE, "target": "90", "aggregate": "p95"}, "aggregate"),
        ({"metric": Metric.AVAILABILITY, "target": "99", "key": "Bad Key"}, "key"),
    ],
)
def test_objective_rules(world, data, field):
    draft = revision_new_draft(
        revision=world.revision_x, acting_user=world.manager, effective_from=date(2026, 2, 1)
    )
    data = {"key": "new_one", **data, "target": Decimal(data["target"])}

    with pytest.raises(ValidationError) as excinfo:
        objective_save(acting_user=world.manager, revision=draft, **data)
    assert field in excinfo.value.message_dict


def test_quarterly_objective_needs_a_quarter_start(world):
    draft = revision_new_draft(
        revision=world.revision_x, acting_user=world.manager, effective_from=date(2026, 2, 1)
    )
    with pytest.raises(ValidationError) as excinfo:
        objective_save(
            acting_user=world.manager,
            revision=draft,
            key="q",
            metric=Metric.CLOSURE_RATE,
            target=Decimal(90),
            period="quarter",
        )
    assert "period" in excinfo.value.message_dict


def test_credit_tier_objective_must_belong_to_the_revision(world):
    draft = revision_new_draft(revision=world.revision_x, acting_user=world.manager)
    with pytest.raises(ValidationError) as excinfo:
        credit_tier_save(
            acting_user=world.manager,
            revision=draft,
            objective=world.objective_x,
            below=Decimal("99"),
            percent=Decimal(5),
        )
    assert "objective" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        credit_tier_save(
            acting_user=world.manager,
            revision=draft,
            objective=None,
            below=Decimal("99"),
            percent=Decimal(150),
        )
    assert "percent" in excinfo.value.message_dict

"""Reads of calendars shared by the API, the portal and reports.

Provider staff see every calendar. Which calendars a customer may read follows
from the objectives that use them, a rule of ``apps.revisions`` (a later step
of the data path). That app registers the rule here when it loads
(``RevisionsConfig.ready``), so this app never imports upward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

from apps.calendars.models import Calendar
from apps.core.access import User
from apps.parties.selectors import party_ids_visible_to

# user -> a queryset of the calendar ids that user's visible objectives use
CalendarIdsRule = Callable[[User], QuerySet[Any]]
_customer_calendar_ids: list[CalendarIdsRule] = []


def register_customer_calendars(rule: CalendarIdsRule) -> None:
    """Tell this app which calendars a customer may read (called once, by apps.revisions)."""
    _customer_calendar_ids[:] = [rule]


def calendar_list_visible(user: User) -> QuerySet[Calendar]:
    """Provider staff: all calendars; customers: those their visible objectives use."""
    queryset = Calendar.objects.prefetch_related("working_ranges", "holidays")
    if party_ids_visible_to(user) is None:
        return queryset
    if not _customer_calendar_ids:
        return queryset.none()
    return queryset.filter(pk__in=_customer_calendar_ids[0](user))


def calendar_default() -> Calendar | None:
    """The tenant's default calendar (``Calendar.is_default``), if it has one."""
    return Calendar.objects.filter(is_default=True).first()

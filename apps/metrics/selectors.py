"""Reads of calendars and objectives shared by portal, API and reports."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.metrics.models import Calendar, Objective
from apps.parties.selectors import User, party_ids_visible_to
from apps.revisions.selectors import revision_list_visible


def objective_list_visible(user: User) -> QuerySet[Objective]:
    revisions = revision_list_visible(user)
    return Objective.objects.select_related("revision", "calendar", "service").filter(
        revision__in=revisions.values("pk")
    )


def calendar_list_visible(user: User) -> QuerySet[Calendar]:
    """Provider staff see all calendars; customers those their visible objectives use."""
    queryset = Calendar.objects.prefetch_related("working_ranges", "holidays")
    if party_ids_visible_to(user) is None:
        return queryset
    used = objective_list_visible(user).exclude(calendar=None).values("calendar_id")
    return queryset.filter(pk__in=used)

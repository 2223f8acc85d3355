"""Reads of calendars and objectives shared by portal, API and reports."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.agreements.models import Agreement
from apps.metrics.measurements import Outage, Sample, Ticket
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


def _visible(queryset: QuerySet, user: User) -> QuerySet:
    """Staff: all. Others: their parties' measurements, and those without a customer
    on a service that one of their visible agreements covers."""
    visible = party_ids_visible_to(user)
    if visible is None:
        return queryset
    covered = Agreement.objects.filter(customer_id__in=visible).values("services")
    return queryset.filter(
        Q(customer_id__in=visible) | Q(customer__isnull=True, service_id__in=covered)
    )


def ticket_list_visible(user: User) -> QuerySet[Ticket]:
    return _visible(Ticket.objects.prefetch_related("pauses"), user)


def outage_list_visible(user: User) -> QuerySet[Outage]:
    return _visible(Outage.objects.all(), user)


def sample_list_visible(user: User) -> QuerySet[Sample]:
    return _visible(Sample.objects.all(), user)

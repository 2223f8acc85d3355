"""Reads of measurements shared by the API, the portal and reports."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.agreements.models import Agreement
from apps.core.access import User
from apps.measurements.models import Outage, Sample, Ticket
from apps.parties.selectors import party_ids_visible_to


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

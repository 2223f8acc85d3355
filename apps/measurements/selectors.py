"""Reads of measurements shared by the API, the portal and reports."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from apps.agreements.models import Agreement
from apps.core.access import User
from apps.measurements.models import Outage, Sample, Ticket
from apps.measurements.scoping import MeasurementScope
from apps.parties.selectors import party_ids_visible_to

M = TypeVar("M", bound=Model)


def measurement_scope_of(user: User) -> MeasurementScope | None:
    """What a user may read (None: everything, provider staff): their parties' measurements
    on any service, and shared ones on a service one of their agreements names."""
    visible = party_ids_visible_to(user)
    if visible is None:
        return None
    covered = Agreement.objects.filter(customer_id__in=visible, services__isnull=False)
    return MeasurementScope(
        customers=frozenset(visible),
        services=None,
        shared_services=frozenset(covered.values_list("services", flat=True)),
    )


def _visible(queryset: QuerySet[M], user: User) -> QuerySet[M]:
    scope = measurement_scope_of(user)
    return queryset if scope is None else queryset.filter(scope.q())


def ticket_list_visible(user: User) -> QuerySet[Ticket]:
    return _visible(Ticket.objects.prefetch_related("pauses"), user)


def outage_list_visible(user: User) -> QuerySet[Outage]:
    return _visible(Outage.objects.all(), user)


def sample_list_visible(user: User) -> QuerySet[Sample]:
    return _visible(Sample.objects.all(), user)

"""Reads of agreements and services shared by the portal, the API, jobs and reports."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from apps.agreements.models import Agreement, AgreementStatus, Service
from apps.core.access import User
from apps.parties.selectors import party_ids_visible_to


def agreement_list_visible(user: User) -> QuerySet[Agreement]:
    """Agreements the user may see: all for provider staff, else their parties' (and below).

    ``revision_count`` counts what the user may see of the revisions: customers
    never learn that a draft exists (drafts have no ``approved_at``).
    """
    visible = party_ids_visible_to(user)
    counted = None if visible is None else Q(revisions__approved_at__isnull=False)
    queryset = (
        Agreement.objects.select_related("provider", "customer", "parent")
        .prefetch_related("services")
        .annotate(revision_count=Count("revisions", filter=counted, distinct=True))
        .order_by("reference")
    )
    return queryset if visible is None else queryset.filter(customer_id__in=visible)


def agreement_list_evaluated() -> QuerySet[Agreement]:
    """The agreements that scheduled jobs evaluate and credit: all but terminated ones."""
    return Agreement.objects.exclude(status=AgreementStatus.TERMINATED).order_by("pk")


def service_list_visible(user: User) -> QuerySet[Service]:
    visible = party_ids_visible_to(user)
    if visible is None:
        return Service.objects.all()
    return Service.objects.filter(agreements__customer_id__in=visible).distinct()

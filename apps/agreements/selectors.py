"""Reads of agreements and services shared by the portal, the API, jobs and reports."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from apps.agreements.models import Agreement, AgreementStatus, Service
from apps.core.access import User, is_provider_staff
from apps.parties.selectors import party_ids_visible_to


def agreement_scope_visible(user: User) -> QuerySet[Agreement]:
    """Agreements the user may see: all for provider staff, else their parties' (and below).

    The bare rule, for pages that show an agreement's own fields (the portal);
    ``agreement_list_visible`` adds what the API lists with it."""
    visible = party_ids_visible_to(user)
    queryset = Agreement.objects.select_related("provider", "customer", "parent").order_by(
        "reference"
    )
    return queryset if visible is None else queryset.filter(customer_id__in=visible)


def agreement_list_visible(user: User) -> QuerySet[Agreement]:
    """``agreement_scope_visible`` with the services and a ``revision_count``.

    ``revision_count`` counts what the user may see of the revisions: customers
    never learn that a draft exists (drafts have no ``approved_at``).
    """
    counted = None if is_provider_staff(user) else Q(revisions__approved_at__isnull=False)
    return (
        agreement_scope_visible(user)
        .prefetch_related("services")
        .annotate(revision_count=Count("revisions", filter=counted, distinct=True))
    )


def agreement_list_evaluated() -> QuerySet[Agreement]:
    """The agreements that scheduled jobs evaluate and credit: all but terminated ones."""
    return Agreement.objects.exclude(status=AgreementStatus.TERMINATED).order_by("pk")


def service_list_visible(user: User) -> QuerySet[Service]:
    visible = party_ids_visible_to(user)
    if visible is None:
        return Service.objects.all()
    return Service.objects.filter(agreements__customer_id__in=visible).distinct()

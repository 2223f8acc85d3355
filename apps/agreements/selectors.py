"""Reads of agreements shared by portal, API and reports."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from apps.agreements.models import Agreement, Service
from apps.parties.selectors import User, party_ids_visible_to


def agreement_list_visible(user: User) -> QuerySet[Agreement]:
    """Agreements the user may see: all for provider staff, else their parties' (and below)."""
    queryset = (
        Agreement.objects.select_related("provider", "customer", "parent")
        .prefetch_related("services")
        .annotate(revision_count=Count("revisions", distinct=True))
        .order_by("reference")
    )
    visible = party_ids_visible_to(user)
    return queryset if visible is None else queryset.filter(customer_id__in=visible)


def agreement_chain(agreement: Agreement) -> list[Agreement]:
    """The agreement and its ancestors, nearest first (service → customer → corporate)."""
    chain = [agreement]
    seen = {agreement.pk}
    current = agreement.parent
    while current is not None and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = current.parent
    return chain


def service_list_visible(user: User) -> QuerySet[Service]:
    visible = party_ids_visible_to(user)
    if visible is None:
        return Service.objects.all()
    return Service.objects.filter(agreements__customer_id__in=visible).distinct()

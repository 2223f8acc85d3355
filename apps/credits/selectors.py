"""Reads of service credits shared by the API, the portal, the admin and reports."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.core.access import User
from apps.credits.models import CreditEvent, ServiceCredit
from apps.parties.selectors import party_ids_visible_to


def credit_list_visible(user: User) -> QuerySet[ServiceCredit]:
    """Provider staff see every credit; customers those of agreements of parties they see.

    Anonymous users see nothing. Events (with their authors) come prefetched.
    """
    queryset = ServiceCredit.objects.select_related("agreement", "revision").prefetch_related(
        Prefetch("events", queryset=CreditEvent.objects.select_related("by"))
    )
    visible = party_ids_visible_to(user)
    if visible is None:
        return queryset
    return queryset.filter(agreement__customer_id__in=visible)

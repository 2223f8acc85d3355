"""Reads of service credits shared by the API, the portal, the admin and reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet

from apps.credits.models import CreditEvent, CreditTier, ServiceCredit
from apps.parties.selectors import User, party_ids_visible_to


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


def credit_tiers_by_revision(revision_ids: Iterable[int]) -> dict[int, list[CreditTier]]:
    """All tiers (objective-specific and revision-wide) of the given revisions, by revision id."""
    found: dict[int, list[CreditTier]] = defaultdict(list)
    for tier in CreditTier.objects.filter(revision_id__in=set(revision_ids)):
        found[tier.revision_id].append(tier)
    return dict(found)

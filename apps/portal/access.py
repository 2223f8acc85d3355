"""What a portal request may see: the user's agreements, narrowed by the staff switcher.

Customers see their parties' agreements (and those of parties below them);
provider staff see every agreement and may narrow the portal to one customer
("view as"), kept in the session. Every portal page finds its objects through
here, so another customer's agreement, period, ticket or credit is a 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from apps.agreements.models import Agreement
from apps.agreements.selectors import agreement_scope_visible
from apps.calendars.periods import Period, parse_period
from apps.core.access import is_provider_staff
from apps.parties.models import Party
from apps.parties.selectors import party_descendant_ids

VIEW_AS = "portal_view_as"  # session key: the customer party a staff member looks at


def view_as_party(request: HttpRequest) -> Party | None:
    """The customer a staff member chose in the switcher (None: all of them)."""
    if not is_provider_staff(request.user):
        return None
    party_id = request.session.get(VIEW_AS)
    return Party.objects.filter(pk=party_id).first() if party_id else None


def portal_agreements(request: HttpRequest) -> QuerySet[Agreement]:
    """The agreements this request may show."""
    queryset = agreement_scope_visible(request.user)
    party = view_as_party(request)
    if party is not None:
        queryset = queryset.filter(customer_id__in=party_descendant_ids([party.pk]))
    return queryset


def agreement_or_404(request: HttpRequest, pk: int) -> Agreement:
    return get_object_or_404(portal_agreements(request), pk=pk)


def period_or_404(text: str) -> Period:
    try:
        return parse_period(text)
    except ValueError:
        raise Http404("No such period.") from None

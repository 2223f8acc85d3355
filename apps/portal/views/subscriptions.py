"""Report subscriptions from the customer's side: see and stop them; one-click unsubscribe."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from apps.core.params import parse_whole_number
from apps.parties.selectors import party_ids_visible_to
from apps.reports.emails import subscription_from_token
from apps.reports.models import ReportSubscription
from apps.reports.services import subscription_stop


def _mine(request: HttpRequest) -> QuerySet[ReportSubscription]:
    """Subscriptions addressed to this user, directly or as a contact with their e-mail."""
    user = request.user
    email = getattr(user, "email", "")
    addressed = Q(user=user.pk) | Q(contact__email__iexact=email) if email else Q(user=user.pk)
    queryset = ReportSubscription.objects.select_related("party", "contact").filter(addressed)
    visible = party_ids_visible_to(user)
    return queryset if visible is None else queryset.filter(party_id__in=visible)


@login_required
def subscription_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            pk = parse_whole_number(request.POST.get("subscription"), name="subscription")
        except ValidationError:
            raise Http404("No such subscription.") from None
        subscription = get_object_or_404(_mine(request), pk=pk)
        subscription_stop(subscription=subscription, acting_user=request.user)
        messages.success(request, _("You will receive no more of these reports."))
        return redirect("portal:subscriptions")
    return render(request, "portal/subscriptions.html", {"subscriptions": _mine(request)})


@csrf_exempt  # the signed token in the URL is the credential (RFC 8058 one-click POST)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    pk = subscription_from_token(token)
    subscription = ReportSubscription.objects.filter(pk=pk).first() if pk else None
    if subscription is None:
        raise Http404("No such subscription.")
    if request.method == "POST":
        subscription_stop(subscription=subscription, acting_user=None)
        return render(request, "portal/unsubscribed.html", {"subscription": subscription})
    return render(request, "portal/unsubscribe.html", {"subscription": subscription})

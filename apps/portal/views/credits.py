"""Credits: the ledger, one credit with its history and schedule, and disputes."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from apps.credits.explain import credit_lines, credit_summary
from apps.credits.models import TRANSITIONS, CreditStatus, ServiceCredit
from apps.credits.selectors import credit_list_visible
from apps.credits.transitions import credit_dispute
from apps.parties.selectors import party_ids_managed_by
from apps.portal.access import portal_agreements
from apps.portal.forms import DisputeForm
from apps.revisions.models import CreditTier


def _credits(request: HttpRequest):
    return credit_list_visible(request.user).filter(
        agreement__in=portal_agreements(request).values("pk")
    )


def may_dispute(request: HttpRequest, credit: ServiceCredit) -> bool:
    return CreditStatus.DISPUTED in TRANSITIONS[credit.status] and (
        credit.agreement.customer_id in party_ids_managed_by(request.user)
    )


@login_required
def credit_list(request: HttpRequest) -> HttpResponse:
    credits = list(_credits(request).order_by("-period", "agreement__reference"))
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for credit in credits:
        if credit.status != CreditStatus.VOID:
            totals[(credit.period[:4], credit.currency)] += credit.amount
    return render(
        request,
        "portal/credits.html",
        {
            "rows": [(credit, credit_summary(credit)) for credit in credits],
            "totals": sorted(totals.items(), reverse=True),
        },
    )


@login_required
def credit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    credit = get_object_or_404(_credits(request), pk=pk)
    tiers = CreditTier.objects.filter(revision=credit.revision).select_related("objective")
    form = DisputeForm(request.POST or None)
    if request.method == "POST":
        if not may_dispute(request, credit):
            raise PermissionDenied(_("Only a manager of the customer may dispute this credit."))
        if form.is_valid():
            try:
                credit_dispute(
                    credit=credit, acting_user=request.user, note=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(request, _("Your dispute was recorded; the provider will answer."))
                return redirect("portal:credit", pk=credit.pk)
    return render(
        request,
        "portal/credit.html",
        {
            "credit": credit,
            "summary": credit_summary(credit),
            "lines": credit_lines(credit),
            "tiers": tiers.order_by("objective__key", "below"),
            "form": form,
            "may_dispute": may_dispute(request, credit),
        },
    )

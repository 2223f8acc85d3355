"""The overview (/) and the agreement page (/agreements/<pk>/)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.compliance.risk import at_risk
from apps.core.access import is_provider_staff
from apps.credits.explain import credit_summary
from apps.credits.selectors import credit_list_visible
from apps.notifications.selectors import notices_for
from apps.parties.models import Party, PartyKind
from apps.portal.access import agreement_or_404, portal_agreements, view_as_party
from apps.portal.selectors import overview
from apps.revisions.models import SectionKey
from apps.revisions.selectors import (
    effective_objectives,
    revision_in_force,
    revision_list_visible,
)

NOTICES = 8  # the latest notices shown (the same ones the e-mails and webhooks carried)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    agreements = portal_agreements(request)
    data = overview(request.user, agreements, timezone.localdate())
    customers = (
        Party.objects.filter(kind__in=[PartyKind.CUSTOMER, PartyKind.INTERNAL]).order_by("name")
        if is_provider_staff(request.user)
        else Party.objects.none()
    )
    return render(
        request,
        "portal/overview.html",
        {
            "data": data,
            "customers": customers,
            "view_as": view_as_party(request),
            "notices": notices_for(request.user, agreements, limit=NOTICES),
        },
    )


def _in_document_order(sections):
    order = {key: index for index, key in enumerate(SectionKey.values)}
    return sorted(sections, key=lambda section: order[section.key])


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = agreement_or_404(request, pk)
    today = timezone.localdate()
    data = overview(request.user, [agreement], today)
    in_force = revision_in_force(agreement, today)
    revisions = list(
        revision_list_visible(request.user)
        .filter(agreement=agreement)
        .select_related("approved_by", "accepted_by")
        .order_by("-number")
    )
    credits = credit_list_visible(request.user).filter(agreement=agreement).order_by("-period")
    effective = effective_objectives(agreement, today)
    return render(
        request,
        "portal/agreement.html",
        {
            "agreement": agreement,
            "summary": data.summaries[0],
            "data": data,
            "in_force": in_force,
            "sections": _in_document_order(in_force.sections.all()) if in_force else [],
            "effective": effective,
            "names": {item.key: item.objective.name or item.key for item in effective},
            "revisions": revisions,
            "risk": at_risk(agreement),
            "credits": [(credit, credit_summary(credit)) for credit in credits],
            "notices": notices_for(request.user, [agreement], limit=NOTICES),
        },
    )

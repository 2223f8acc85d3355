"""Customer-facing pages: overview, agreement, revision diff."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from apps.agreements.selectors import agreement_list_visible
from apps.compliance.risk import at_risk
from apps.credits.selectors import credit_list_visible
from apps.portal.selectors import compliance_grids
from apps.revisions.diff import revision_diff
from apps.revisions.models import SectionKey
from apps.revisions.selectors import effective_objectives, revision_in_force, revision_list_visible


def _credits_for(user, agreements):
    return list(
        credit_list_visible(user)
        .filter(agreement__in=[a.pk for a in agreements])
        .select_related("agreement")
        .order_by("-period", "agreement__reference")
    )


def _in_document_order(sections):
    order = {key: index for index, key in enumerate(SectionKey.values)}
    return sorted(sections, key=lambda section: order[section.key])


@login_required
def home(request: HttpRequest) -> HttpResponse:
    agreements = list(agreement_list_visible(request.user))
    grids = compliance_grids(request.user, agreements)
    credits = _credits_for(request.user, agreements)
    return render(
        request,
        "portal/home.html",
        {
            "grids": grids,
            "credits": credits[:12],
            "open_credit_count": sum(1 for c in credits if c.status not in ("issued", "void")),
        },
    )


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(agreement_list_visible(request.user), pk=pk)
    today = timezone.localdate()
    revisions = list(
        revision_list_visible(request.user).filter(agreement=agreement).order_by("-number")
    )
    in_force = revision_in_force(agreement, today)
    return render(
        request,
        "portal/agreement.html",
        {
            "agreement": agreement,
            "in_force": in_force,
            "sections": _in_document_order(in_force.sections.all()) if in_force else [],
            "effective": effective_objectives(agreement, today),
            "revisions": revisions,
            "grid": compliance_grids(request.user, [agreement])[0],
            "risk": at_risk(agreement),
            "credits": _credits_for(request.user, [agreement]),
        },
    )


@login_required
def revision_changes(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    agreement = get_object_or_404(agreement_list_visible(request.user), pk=pk)
    visible = revision_list_visible(request.user).filter(agreement=agreement)
    revision = get_object_or_404(visible, number=number)
    against = request.GET.get("against")
    base = (
        visible.filter(number=int(against)).first()
        if against and against.isascii() and against.isdigit()
        else (visible.filter(number__lt=number).order_by("-number").first())
    )
    if against and base is None:
        raise Http404("No such revision.")
    return render(
        request,
        "portal/diff.html",
        {
            "agreement": agreement,
            "revision": revision,
            "base": base,
            "others": visible.exclude(pk=revision.pk).order_by("number"),
            "diff": revision_diff(base, revision) if base else None,
        },
    )

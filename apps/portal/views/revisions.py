"""Revisions of an agreement: list, read, compare any two, accept one (customer managers)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from apps.core.net import client_ip
from apps.parties.selectors import party_ids_managed_by
from apps.portal.access import agreement_or_404
from apps.portal.forms import AcceptRevisionForm
from apps.revisions.diff import diff_base, revision_diff
from apps.revisions.models import Revision, RevisionStatus, SectionKey
from apps.revisions.selectors import revision_list_visible
from apps.revisions.services import revision_accept


def _visible(request: HttpRequest, pk: int):
    agreement = agreement_or_404(request, pk)
    revisions = (
        revision_list_visible(request.user)
        .filter(agreement=agreement)
        .select_related("approved_by", "accepted_by", "agreement")
    )
    return agreement, revisions


def may_accept(request: HttpRequest, revision: Revision) -> bool:
    return (
        revision.status == RevisionStatus.APPROVED
        and revision.agreement.requires_acceptance
        and revision.agreement.customer_id in party_ids_managed_by(request.user)
    )


@login_required
def revision_list(request: HttpRequest, pk: int) -> HttpResponse:
    agreement, revisions = _visible(request, pk)
    rows = list(revisions.order_by("-number"))
    return render(
        request,
        "portal/revisions.html",
        {
            "agreement": agreement,
            "revisions": rows,
            "acceptable": {r.pk for r in rows if may_accept(request, r)},
        },
    )


@login_required
def revision_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    agreement, revisions = _visible(request, pk)
    revision = get_object_or_404(revisions, number=number)
    order = {key: index for index, key in enumerate(SectionKey.values)}
    sections = sorted(revision.sections.all(), key=lambda s: order[s.key])
    objectives = list(revision.objectives.select_related("calendar", "service").order_by("key"))
    tiers = list(revision.credit_tiers.select_related("objective").order_by("objective", "below"))
    return render(
        request,
        "portal/revision.html",
        {
            "agreement": agreement,
            "revision": revision,
            "sections": sections,
            "objectives": objectives,
            "tiers": tiers,
            "may_accept": may_accept(request, revision),
            "others": revisions.exclude(pk=revision.pk).order_by("number"),
        },
    )


@login_required
def revision_compare(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    agreement, revisions = _visible(request, pk)
    revision = get_object_or_404(revisions, number=number)
    against = None
    if request.GET.get("against"):
        text = request.GET["against"].strip()
        if not (text.isascii() and text.isdigit() and len(text) < 10):
            raise Http404("No such revision.")
        against = get_object_or_404(revisions, number=int(text))
    base = diff_base(revision, among=revisions, against=against)
    return render(
        request,
        "portal/compare.html",
        {
            "agreement": agreement,
            "revision": revision,
            "base": base,
            "others": revisions.exclude(pk=revision.pk).order_by("number"),
            "diff": revision_diff(base, revision) if base else None,
        },
    )


@login_required
def revision_accept_view(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """GET: the confirmation step; POST: accept (recorded with user, time and address)."""
    agreement, revisions = _visible(request, pk)
    revision = get_object_or_404(revisions, number=number)
    if not may_accept(request, revision):
        raise PermissionDenied(_("Only a manager of the customer may accept this revision."))
    form = AcceptRevisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            revision_accept(
                revision=revision, acting_user=request.user, from_address=client_ip(request)
            )
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("You accepted revision %(number)s. It governs the periods from %(date)s.")
                % {"number": revision.number, "date": revision.effective_from},
            )
            return redirect("portal:revision", pk=agreement.pk, number=revision.number)
    base = diff_base(revision, among=revisions)
    return render(
        request,
        "portal/accept.html",
        {
            "agreement": agreement,
            "revision": revision,
            "form": form,
            "diff": revision_diff(base, revision) if base else None,
            "base": base,
        },
    )

"""Revisions of an agreement: list, read, compare any two, accept one (customer managers)."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.agreements.models import Agreement
from apps.core.net import client_ip
from apps.core.params import parse_whole_number
from apps.parties.selectors import party_ids_managed_by
from apps.portal.access import agreement_or_404
from apps.portal.forms import AcceptRevisionForm
from apps.portal.wording import fee_share, tier_scope, tier_threshold
from apps.revisions.diff import diff_base, revision_diff
from apps.revisions.models import Objective, Revision, RevisionStatus, SectionKey
from apps.revisions.selectors import revision_in_force, revision_list_visible
from apps.revisions.services import revision_accept
from apps.revisions.terms import objective_terms


def _visible(request: HttpRequest, pk: int) -> tuple[Agreement, QuerySet[Revision]]:
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


def _governs_until(agreement: Agreement, rows: list[Revision]) -> dict[int, date]:
    """Revision pk -> the last day it governs, for each binding revision a later binding
    one takes over from (DESIGN §3: a superseded revision still governs the periods
    before its successor's effective_from)."""
    binding = [
        r for r in rows if r.approved_at and (r.accepted_at or not agreement.requires_acceptance)
    ]
    until = {}
    for revision in binding:
        later = [r.effective_from for r in binding if r.number > revision.number]
        if later:
            until[revision.pk] = min(later) - timedelta(days=1)
    return until


def _names(*revisions: Revision | None) -> dict[str, str]:
    """Objective key → name, over the revisions compared (for the changes' headings)."""
    ids = [revision.pk for revision in revisions if revision is not None]
    return {
        key: name or key
        for key, name in Objective.objects.filter(revision__in=ids).values_list("key", "name")
    }


@login_required
def revision_list(request: HttpRequest, pk: int) -> HttpResponse:
    agreement, revisions = _visible(request, pk)
    rows = list(revisions.order_by("-number"))
    today = timezone.localdate()
    in_force = revision_in_force(agreement, today)
    return render(
        request,
        "portal/revisions.html",
        {
            "agreement": agreement,
            "revisions": rows,
            "acceptable": {r.pk for r in rows if may_accept(request, r)},
            "in_force": in_force.pk if in_force else None,
            "until": _governs_until(agreement, rows),
            "today": today,
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
    fee, currency = agreement.monthly_fee, agreement.currency
    return render(
        request,
        "portal/revision.html",
        {
            "agreement": agreement,
            "revision": revision,
            "sections": sections,
            "objectives": [(objective, objective_terms(objective)) for objective in objectives],
            "tiers": [
                (tier_scope(t), tier_threshold(t), t.percent, fee_share(t.percent, fee, currency))
                for t in tiers
            ],
            "may_accept": may_accept(request, revision),
            "others": revisions.exclude(pk=revision.pk).order_by("number"),
        },
    )


@login_required
def revision_compare(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    agreement, revisions = _visible(request, pk)
    revision = get_object_or_404(revisions, number=number)
    against = None
    if "against" in request.GET:
        try:
            wanted = parse_whole_number(request.GET["against"], name="against", minimum=1)
        except ValidationError:
            raise Http404("No such revision.") from None
        against = get_object_or_404(revisions, number=wanted)
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
            "names": _names(base, revision),
        },
    )


@login_required
def revision_accept_view(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """GET: the confirmation step; POST: accept (recorded with user, time and address)."""
    agreement, revisions = _visible(request, pk)
    revision = get_object_or_404(revisions, number=number)
    if not may_accept(request, revision):
        if revision.status != RevisionStatus.APPROVED or not agreement.requires_acceptance:
            messages.info(
                request,
                _("Revision %(number)s is not waiting for acceptance (%(status)s).")
                % {"number": revision.number, "status": revision.get_status_display()},
            )
            return redirect("portal:revision", pk=agreement.pk, number=revision.number)
        raise PermissionDenied(_("Only a manager of the customer may accept this revision."))
    form = AcceptRevisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
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
                    % {"number": revision.number, "date": date_format(revision.effective_from)},
                )
                return redirect("portal:revision", pk=agreement.pk, number=revision.number)
        status = 400
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
            "names": _names(base, revision),
        },
        status=status,
    )

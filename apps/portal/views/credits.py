"""Credits: the ledger, one credit with its history and schedule, and disputes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.agreements.models import AgreementKind
from apps.credits.explain import credit_lines, credit_summary
from apps.credits.models import OPEN_STATUSES, TRANSITIONS, CreditStatus, ServiceCredit
from apps.credits.selectors import credit_list_visible
from apps.credits.transitions import credit_dispute
from apps.parties.selectors import party_ids_managed_by
from apps.portal.access import portal_agreements
from apps.portal.forms import DisputeForm
from apps.portal.wording import fee_share, tier_scope, tier_threshold
from apps.revisions.models import CreditTier, Objective


def _credits(request: HttpRequest) -> QuerySet[ServiceCredit]:
    return credit_list_visible(request.user).filter(
        agreement__in=portal_agreements(request).values("pk")
    )


def manages(request: HttpRequest, credit: ServiceCredit) -> bool:
    return credit.agreement.customer_id in party_ids_managed_by(request.user)


def may_dispute(request: HttpRequest, credit: ServiceCredit) -> bool:
    return CreditStatus.DISPUTED in TRANSITIONS[credit.status] and manages(request, credit)


def credit_explanation(credit: ServiceCredit) -> str:
    """How the amount came about; a credit of nothing always says why."""
    text = credit_summary(credit)
    if credit.amount > 0:
        return text
    if credit.fee_basis <= 0:
        reason = _("The agreement has no fee to take a share of, so the credit is nothing.")
    elif credit.status in (CreditStatus.RESOLVED, CreditStatus.ISSUED) and credit.resolution:
        reason = _("Set to nothing when the dispute was resolved.")
    elif credit.percent <= 0:
        reason = _("No credit tier matched the missed objectives, so they earn nothing.")
    else:
        reason = _("The credit was voided.") if credit.status == CreditStatus.VOID else ""
    return f"{text}. {reason}".strip()


@dataclass(frozen=True)
class Total:
    year: str
    currency: str
    amount: Decimal  # every credit but void ones
    open: Decimal  # of which not yet issued


def totals_of(credits: list[ServiceCredit]) -> list[Total]:
    amounts: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for credit in credits:
        if credit.status == CreditStatus.VOID:
            continue
        pair = amounts[(credit.period[:4], credit.currency)]
        pair[0] += credit.amount
        if credit.status in OPEN_STATUSES:
            pair[1] += credit.amount
    return [
        Total(year, currency, total, open_)
        for (year, currency), (total, open_) in sorted(
            amounts.items(), key=lambda item: (item[0][0], item[0][1]), reverse=True
        )
    ]


@login_required
def credit_list(request: HttpRequest) -> HttpResponse:
    credits = list(_credits(request).order_by("-period", "agreement__reference"))
    agreements = list(portal_agreements(request))
    return render(
        request,
        "portal/credits.html",
        {
            "rows": [(credit, credit_explanation(credit)) for credit in credits],
            "totals": totals_of(credits),
            "only_internal": bool(agreements)
            and all(a.kind == AgreementKind.INTERNAL for a in agreements),
        },
    )


@dataclass(frozen=True)
class ScheduleRow:
    scope: str
    threshold: str
    percent: Decimal
    worth: str  # for one month of the agreement's fee
    applied: bool  # the tier this credit's calculation used


@dataclass(frozen=True)
class Schedule:
    title: str
    rows: list[ScheduleRow]


def _schedules(credit: ServiceCredit) -> list[Schedule]:
    """The tiers of the credit's revision and of the revisions that define its inherited
    objectives (their tiers apply to them), the ones used marked: two queries."""
    used = {item.get("tier") for item in credit.objectives}
    revisions = {credit.revision_id} | {
        item["revision"] for item in credit.objectives if item.get("revision")
    }
    tiers = (
        CreditTier.objects.filter(revision__in=revisions)
        .select_related("objective", "revision__agreement")
        .order_by("revision__agreement__reference", "revision__number", "objective__key", "below")
    )
    grouped: dict[int, list[CreditTier]] = defaultdict(list)
    for tier in tiers:
        grouped[tier.revision_id].append(tier)
    agreement = credit.agreement
    schedules = []
    for revision_id in sorted(grouped, key=lambda pk: (pk != credit.revision_id, pk)):
        found = grouped[revision_id]
        revision = found[0].revision
        title = (
            _("Revision %(n)s of %(ref)s")
            if revision_id == credit.revision_id
            else _("Revision %(n)s of %(ref)s (for the objectives inherited from it)")
        ) % {"n": revision.number, "ref": revision.agreement.reference}
        schedules.append(
            Schedule(
                title,
                [
                    ScheduleRow(
                        tier_scope(tier),
                        tier_threshold(tier),
                        tier.percent,
                        fee_share(tier.percent, agreement.monthly_fee, credit.currency),
                        tier.pk in used,
                    )
                    for tier in found
                ],
            )
        )
    return schedules


def _detail(request: HttpRequest, credit: ServiceCredit, form: DisputeForm) -> dict[str, Any]:
    keys = [item.get("objective") for item in credit.objectives if item.get("objective")]
    names = dict(Objective.objects.filter(pk__in=keys).values_list("key", "name"))
    return {
        "credit": credit,
        "summary": credit_explanation(credit),
        "lines": [(line, names.get(line.key) or line.key) for line in credit_lines(credit)],
        "schedules": _schedules(credit),
        "cap_amount": fee_share(credit.cap_percent, credit.fee_basis, credit.currency),
        "form": form,
        "may_dispute": may_dispute(request, credit),
    }


@login_required
def credit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    credit = get_object_or_404(_credits(request), pk=pk)
    return render(request, "portal/credit.html", _detail(request, credit, DisputeForm()))


@login_required
@require_http_methods(["GET", "POST"])
def credit_dispute_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager of the customer disputes a calculated or approved credit, with a reason.
    The form lives on the credit's page: a GET (a reload, a shared link) goes there."""
    credit = get_object_or_404(_credits(request), pk=pk)
    if request.method == "GET":
        return redirect("portal:credit", pk=credit.pk)
    if not manages(request, credit):
        raise PermissionDenied(_("Only a manager of the customer may dispute this credit."))
    if not may_dispute(request, credit):
        messages.info(
            request,
            _("This credit is %(status)s; it cannot be disputed now.")
            % {"status": credit.get_status_display().lower()},
        )
        return redirect("portal:credit", pk=credit.pk)
    form = DisputeForm(request.POST)
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
    return render(request, "portal/credit.html", _detail(request, credit, form), status=400)

"""What a revision awaiting the customer's acceptance would have meant for them last year.

The figures are apps.credits.whatif's (the evaluation's own engine, nothing stored);
this page shows them for an approved revision that waits for this customer's
acceptance, and nothing else: a draft, an accepted revision, another customer's
revision are all 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from apps.credits.forms import what_if_from_query
from apps.credits.whatif import awaiting_acceptance
from apps.portal.access import agreement_or_404
from apps.revisions.selectors import revision_list_visible


@login_required
def revision_what_if_view(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    agreement = agreement_or_404(request, pk)
    revisions = awaiting_acceptance(revision_list_visible(request.user).filter(agreement=agreement))
    revision = get_object_or_404(revisions.select_related("agreement"), number=number)
    form, report = what_if_from_query(
        revision=revision, query=request.GET, today=timezone.localdate(), acting_user=request.user
    )
    return render(
        request,
        "portal/whatif.html",
        {"agreement": agreement, "revision": revision, "form": form, "report": report},
    )

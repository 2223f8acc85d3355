"""A period of an agreement: its report page, PDF and CSV downloads, and a ticket's clock."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from apps.compliance.timeline import ticket_timeline
from apps.credits.explain import credit_summary
from apps.measurements.models import Ticket
from apps.portal.access import agreement_or_404, period_or_404
from apps.reports.periods import period_report, with_tickets
from apps.reports.rendering import report_csv, report_filename, report_pdf

BREACHES_PER_PAGE = 25


@login_required
def period_detail(request: HttpRequest, pk: int, period: str) -> HttpResponse:
    agreement = agreement_or_404(request, pk)
    report = period_report(agreement, period_or_404(period))
    page = Paginator(report.breaches, BREACHES_PER_PAGE).get_page(request.GET.get("page"))
    with_tickets(report, list(page.object_list))
    return render(
        request,
        "portal/period.html",
        {
            "report": report,
            "page": page,
            "credit_how": credit_summary(report.credit) if report.credit else "",
        },
    )


@login_required
def period_pdf(request: HttpRequest, pk: int, period: str) -> HttpResponse:
    agreement = agreement_or_404(request, pk)
    report = period_report(agreement, period_or_404(period))
    with_tickets(report, report.breaches)
    response = HttpResponse(report_pdf(report, request=request), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report_filename(report, "pdf")}"'
    return response


@login_required
def period_csv(request: HttpRequest, pk: int, period: str) -> HttpResponse:
    agreement = agreement_or_404(request, pk)
    report = period_report(agreement, period_or_404(period))
    with_tickets(report, report.breaches)
    response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{report_filename(report, "csv")}"'
    return response


@login_required
def ticket_detail(request: HttpRequest, pk: int, period: str, ticket: int) -> HttpResponse:
    agreement = agreement_or_404(request, pk)
    found = get_object_or_404(
        Ticket.objects.select_related("service").prefetch_related("pauses"), pk=ticket
    )
    timeline = ticket_timeline(found, agreement, period_or_404(period), now=timezone.now())
    if timeline is None:  # not a ticket this agreement counts in that period
        raise Http404("No such ticket.")
    return render(
        request,
        "portal/ticket.html",
        {"agreement": agreement, "period": period, "timeline": timeline},
    )

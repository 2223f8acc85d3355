"""One period report, three renderings: HTML (the e-mail and the PDF's source), PDF
(WeasyPrint, on the system's Pango) and CSV (a header row, ISO 8601 timestamps).

The portal's downloads and the e-mailed reports call these same functions.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string

from apps.core.money import money_text
from apps.reports.digest import report_rows
from apps.reports.periods import PeriodReport

PDF_BREACHES = 200  # rows in the PDF; the CSV has them all
CSV_COLUMNS = [
    "record",
    "agreement",
    "period",
    "objective",
    "metric",
    "target",
    "attained",
    "status",
    "final",
    "data_points",
    "revision",
    "ticket",
    "opened_at",
    "clock_seconds",
    "threshold_seconds",
    "over_seconds",
    "open",
    "outage",
    "start",
    "end",
    "kind",
    "cause",
    "counted",
    "reason",
    "percent",
    "amount",
    "currency",
    "credit_status",
]


def report_filename(report: PeriodReport, extension: str) -> str:
    """E.g. "NW-GLOBEX-DE-2026-09.pdf"."""
    reference = re.sub(r"[^A-Za-z0-9._-]+", "-", report.agreement.reference).strip("-")
    return f"{reference or 'agreement'}-{report.period.label}.{extension}"


def report_context(report: PeriodReport, **extra: Any) -> dict[str, Any]:
    return {
        "report": report,
        "agreement": report.agreement,
        "period": report.period,
        "breaches": report.breaches[:PDF_BREACHES],
        "more_breaches": max(len(report.breaches) - PDF_BREACHES, 0),
        **extra,
    }


def report_html(report: PeriodReport, *, base_url: str = "", **extra: Any) -> str:
    """The report as a self-contained HTML document (the PDF's source): with each
    objective's allowance used (the chart) and its last six periods."""
    context = report_context(report, base_url=base_url, rows=report_rows(report), **extra)
    return render_to_string("reports/period_report.html", context)


def report_pdf(
    report: PeriodReport, *, request: HttpRequest | None = None, base_url: str = ""
) -> bytes:
    """The report as PDF, rendered by WeasyPrint from ``report_html``; links in it point
    at ``base_url`` (or the request's host)."""
    from weasyprint import HTML  # Pango is loaded when WeasyPrint is imported

    if request is not None:
        base_url = request.build_absolute_uri("/")
    html = report_html(report, base_url=base_url.rstrip("/"))
    return bytes(HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf())


def _value(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, Decimal):
        return format(value, "f")  # plain digits: str(Decimal("9E+1")) would be "9E+1"
    return str(value)


def report_csv(report: PeriodReport) -> str:
    """Every figure of the report, one record per row: results, breaches, outages, credit."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    base = {"agreement": report.agreement.reference, "period": report.period.label}
    for line in report.lines:
        result = line.result
        writer.writerow(
            {
                **base,
                "record": "result",
                "objective": result.key,
                "metric": result.metric,
                "target": _value(result.target.normalize()),
                "attained": _value(result.attained),
                "status": result.status,
                "final": str(result.final).lower(),
                "data_points": result.data_points,
                "revision": result.revision.number,
            }
        )
    for breach in report.breaches:
        ticket = report.tickets.get(breach.ticket_id)
        writer.writerow(
            {
                **base,
                "record": "breach",
                "objective": breach.key,
                "ticket": ticket.external_id if ticket else breach.ticket_id,
                "opened_at": _value(breach.opened_at),
                "clock_seconds": breach.clock_seconds,
                "threshold_seconds": breach.threshold_seconds,
                "over_seconds": breach.over_seconds,
                "open": str(not breach.done).lower(),
            }
        )
    for outage_line in report.outages:
        outage = outage_line.outage
        writer.writerow(
            {
                **base,
                "record": "outage",
                "objective": " ".join(outage_line.keys),
                "outage": outage.external_id,
                "start": _value(outage.start),
                "end": _value(outage.end),
                "kind": outage.kind,
                "cause": outage.cause,
                "counted": str(outage_line.counted).lower(),
                "reason": outage_line.reason,
            }
        )
    if report.credit is not None:
        credit = report.credit
        writer.writerow(
            {
                **base,
                "record": "credit",
                "percent": _value(credit.percent.normalize()),
                "amount": money_text(credit.amount, credit.currency),
                "currency": credit.currency,
                "credit_status": credit.status,
            }
        )
    return out.getvalue()

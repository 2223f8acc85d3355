"""A period of an agreement: its page, a ticket's clock, and the PDF and CSV downloads."""

from __future__ import annotations

import csv
import io
import re
import zlib
from datetime import datetime, timedelta

from django_tenants.utils import schema_context

from apps.measurements.models import Ticket
from apps.reports.rendering import CSV_COLUMNS
from tests.conftest import TENANT_A, sign_in
from tests.portal.conftest import OCTOBER, add_agreements, queries_of


def _period(portal) -> str:
    return f"/agreements/{portal.agreement.pk}/periods/{OCTOBER.label}/"


def test_the_period_page_shows_every_figure_with_units(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get(_period(portal)).text

    assert "Oct 2026" in page and "provisional" in page
    # objectives: attained against target, with units, and the revision in force
    assert "Hosting availability" in page and "≥ 99.9 %" in page and "99.73 %" in page
    assert "2 h 00 min down" in page
    assert "First response within an hour" in page and "50 %" in page
    assert "2 within, 2 over" in page
    assert "revision 1" in page
    # the credit: 10 % for availability + 5 % (revision-wide tier) for the response time
    assert "150.00 EUR" in page and "15 % of 1,000.00 EUR = 150.00 EUR" in page
    # the tickets that breached, worst first, clock time against the limit, with pauses
    assert page.index("p0-2026-10-0") < page.index("p0-2026-10-1")
    assert "3 h 00 min" in page and "1 h 00 min" in page and "2 h 00 min" in page
    assert "2 h 31 min" in page  # 3 h 01 min less the 30-minute pause
    assert "Waiting on customer" in page or "waiting on customer" in page.lower()
    # outages, counted or not with the reason; adjustments (none)
    assert "p0-down" in page and "counted as downtime" in page
    assert "p0-maint" in page and "planned maintenance" in page
    assert "no figure of this period was corrected" in page
    # the downloads
    assert f"{_period(portal)}report.pdf" in page and f"{_period(portal)}report.csv" in page


def test_a_ticket_timeline_shows_where_the_clock_ran_stopped_and_breached(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get(f"{_period(portal)}tickets/{portal.paused.pk}/").text

    assert portal.paused.external_id in page
    for event in ("opened", "first response", "clock paused", "clock resumed", "resolved"):
        assert event in page, event
    assert "breached" in page
    assert "2 h 31 min on the clock of 1 h 00 min allowed" in page
    assert "30 min" in page  # paused
    assert 'class="clockbar"' in page and 'class="run late"' in page
    assert "running, past the deadline" in page


def test_breaching_tickets_are_paginated(portal, client_a):
    with schema_context(TENANT_A.schema):
        opened = datetime(2026, 10, 12, 9, tzinfo=portal.breaching.opened_at.tzinfo)
        Ticket.objects.bulk_create(
            Ticket(
                external_id=f"late-{n:02d}",
                service=portal.world.service,
                customer=portal.world.party_x,
                opened_at=opened + timedelta(minutes=n),
                first_response_at=opened + timedelta(hours=2, minutes=2 * n),
            )
            for n in range(30)
        )
        from apps.credits.settlement import period_settle
        from tests.portal.conftest import NOW

        period_settle(agreements=[portal.agreement], period=OCTOBER, now=NOW)
    sign_in(client_a, "customer_x_alpha")

    first = client_a.get(_period(portal)).text
    second = client_a.get(_period(portal), {"page": "2"}).text

    assert "32 tickets went over their clock" in first and "page 1 of 2" in first
    assert first.count("/tickets/") == 25 and second.count("/tickets/") == 7
    assert client_a.get(_period(portal), {"page": "x"}).status_code == 200
    assert client_a.get(_period(portal), {"page": "99"}).status_code == 200


def _pdf_text(pdf: bytes) -> bytes:
    """The PDF's uncompressed objects (outline and metadata included)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"".join(parts)


def test_the_pdf_download(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    response = client_a.get(f"{_period(portal)}report.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert 'filename="P0-alpha-2026-10.pdf"' in response["Content-Disposition"]
    assert b"2026-10" in _pdf_text(response.content)  # the report names its period


def test_the_csv_download(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    response = client_a.get(f"{_period(portal)}report.csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="P0-alpha-2026-10.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == CSV_COLUMNS  # the header row
    breaches = [row for row in rows if row["record"] == "breach"]
    assert {row["ticket"] for row in breaches} == {"p0-2026-10-0", "p0-2026-10-1"}
    for row in breaches:
        opened = datetime.fromisoformat(row["opened_at"])
        assert opened.tzinfo is not None and "T" in row["opened_at"]
    outages = [row for row in rows if row["record"] == "outage"]
    assert all(datetime.fromisoformat(row["start"]).tzinfo for row in outages)
    assert [row["amount"] for row in rows if row["record"] == "credit"] == ["150.00"]


def test_the_period_page_takes_the_same_queries_for_ten_times_the_data(portal, client_a):
    sign_in(client_a, "customer_x_alpha")
    url = _period(portal)
    small = queries_of(client_a, url)

    add_agreements(portal, 9)  # ten agreements: ten times the tickets and outages in scope
    assert "20 tickets went over their clock" in client_a.get(url).text

    assert queries_of(client_a, url) == small


def test_the_csv_writes_targets_and_percentages_as_plain_numbers(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    rows = list(
        csv.DictReader(io.StringIO(client_a.get(f"{_period(portal)}report.csv").content.decode()))
    )

    targets = {row["objective"]: row["target"] for row in rows if row["record"] == "result"}
    assert targets == {"availability": "99.9", "response": "90"}
    assert [row["percent"] for row in rows if row["record"] == "credit"] == ["15"]

"""How the reports read and fit: the e-mail on a phone and on a desktop, figures that
never break across lines in the PDF, names and words instead of internal keys."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.utils.html import strip_tags
from django_tenants.utils import schema_context

from apps.calendars.periods import parse_period
from apps.compliance.models import ComplianceResult
from apps.measurements.models import Outage
from apps.parties.models import Contact, ContactRole
from apps.reports.models import Frequency, ReportSubscription
from apps.reports.periods import period_report
from apps.reports.rendering import report_html
from apps.reports.services import run_send
from apps.revisions.models import Metric
from tests.conftest import TENANT_A
from tests.credits.helpers import Plan, result, revision_with_tiers

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)
CHROMIUM = Path("/usr/bin/chromium")
LONG_NAME = "Web hosting availability of the customer portal, its API and the shop (prime time)"


@pytest.fixture(autouse=True)
def _pinned(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def report_world(world):
    """agreement_x with three objectives in November 2026: a long-named availability
    (no outage counted), an unnamed first-contact resolution (85.71 %) and an unnamed
    closure rate; a planned maintenance with a description and an outage without."""
    _, objectives = revision_with_tiers(
        world,
        plans=[
            Plan("availability", options={"name": LONG_NAME, "target": Decimal("99.9")}),
            Plan("fcr", options={"metric": Metric.FIRST_CONTACT_RESOLUTION, "target": 70}),
            Plan("closure_rate", options={"metric": Metric.CLOSURE_RATE, "target": 90}),
        ],
    )
    for key, attained, points in [("availability", "100", 0), ("fcr", "85.7143", 35)]:
        made = result(
            world, objective=objectives[key], status="met", attained=attained, period="2026-11"
        )
        ComplianceResult.objects.filter(pk=made.pk).update(data_points=points)
    made = result(
        world, objective=objectives["closure_rate"], status="met", attained="100", period="2026-11"
    )
    ComplianceResult.objects.filter(pk=made.pk).update(data_points=1)
    Outage.objects.create(
        external_id="demo-maint-2026-11",
        service=world.service,
        start=datetime(2026, 11, 1, 1, tzinfo=UTC),
        end=datetime(2026, 11, 1, 3, tzinfo=UTC),
        kind="planned",
        description="Planned maintenance of the web servers",
    )
    Outage.objects.create(
        external_id="inc-4711",
        service=world.service,
        start=datetime(2026, 11, 20, 1, tzinfo=UTC),
        end=datetime(2026, 11, 20, 1, 5, tzinfo=UTC),
        cause="customer",
    )
    return world


def _report(world):
    return period_report(world.agreement_x, parse_period("2026-11"), now=NOW)


def _pdf_lines(html: str) -> list[str]:
    """The PDF's lines as WeasyPrint lays them out (no-break spaces as spaces)."""
    from weasyprint import HTML
    from weasyprint.formatting_structure.boxes import LineBox, TextBox

    lines: list[str] = []

    def walk(box) -> None:
        if isinstance(box, LineBox):
            text = "".join(b.text for b in box.descendants() if isinstance(b, TextBox))
            lines.append(text.replace("\u00a0", " ").strip())
            return
        for child in getattr(box, "children", []):
            walk(child)

    for page in HTML(string=html, base_url=str(settings.BASE_DIR)).render().pages:
        walk(page._page_box)
    return lines


def test_pdf_figures_are_never_split_across_lines(report_world):
    lines = _pdf_lines(report_html(_report(report_world)))

    assert any("≥ 99.9 %" in line for line in lines)
    assert any("85.71 %" in line for line in lines)
    assert not [line for line in lines if line.endswith(("≥", "≤"))]
    assert not [line for line in lines if line.startswith("%")]


def test_the_pdf_names_objectives_and_outages_and_says_what_results_rest_on(report_world):
    text = strip_tags(report_html(_report(report_world)))

    assert not re.search(r"\bfcr\b|closure_rate", text)  # internal keys
    assert "First-contact resolution" in text and "Closure rate" in text  # unnamed: the metric
    assert "First-contact resolution ≥\u00a070\u00a0%, per month" in text  # what it promises
    assert "Planned maintenance of the web servers" in text
    assert "ref. demo-maint-2026-11" in text and "ref. inc-4711" in text
    assert "Unplanned outage" in text  # an outage without a description: its kind
    assert "data points" not in text
    assert "no outages counted" in text and "35 tickets resolved" in text
    assert "1 ticket opened" in text


def _weekly_mail(world) -> str:
    contact = Contact.objects.create(
        party=world.party_x, name="Rita", email="rita@x.example", role=ContactRole.REPORT_RECIPIENT
    )
    subscription = ReportSubscription.objects.create(
        party=world.party_x, contact=contact, frequency=Frequency.WEEKLY, attach_pdf=False
    )
    with schema_context(TENANT_A.schema):
        assert run_send(subscription, "2026-W48") == "sent"
    [message] = mail.outbox
    return message.alternatives[0][0]


@pytest.mark.e2e
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Debian's Chromium at {CHROMIUM}")
def test_the_mail_fits_a_phone_and_keeps_its_columns_on_a_desktop(report_world, monkeypatch):
    from playwright.sync_api import sync_playwright

    html = _weekly_mail(report_world)
    outside_outlook = re.sub(r"<!--\[if mso\]>.*?<!\[endif\]-->", "", html, flags=re.S)
    fixed = re.findall(r'(?<![-\w])width:\s*(\d+)px|\swidth="(\d+)"', outside_outlook)
    assert max(int(css or attribute) for css, attribute in fixed) <= 320  # none wider than a phone

    # Playwright's sync API keeps an event loop on this thread; nothing here is async
    # and the database is not used while it runs.
    monkeypatch.setitem(os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            layout = {}
            for width in (390, 600, 800):
                page = browser.new_page(viewport={"width": width, "height": 800})
                page.set_content(html)
                layout[width] = page.evaluate(
                    """() => {
                      const find = (text) => [...document.querySelectorAll('div,span,strong')]
                        .find((e) => e.textContent.trim() === text);
                      const box = (e) => e.getBoundingClientRect();
                      return {
                        scroll: document.documentElement.scrollWidth,
                        widest: Math.max(...[...document.body.querySelectorAll('*')]
                          .map((e) => box(e).right)),
                        title: find('2026-W48').getClientRects().length,
                        name: box(find('LONG_NAME')).left,
                        allowance: box(find('0 % of the allowance')).left,
                        attained: find('85.71\u00a0%').getClientRects().length,
                      };
                    }""".replace("LONG_NAME", LONG_NAME)
                )
                page.close()
        finally:
            browser.close()

    phone, narrow, desktop = layout[390], layout[600], layout[800]
    assert phone["scroll"] <= 390 and phone["widest"] <= 390, phone
    assert phone["title"] == 1 and phone["attained"] == 1  # "2026-W48", "85.71 %" whole
    assert abs(phone["allowance"] - phone["name"]) < 2  # the allowance under the objective
    for wide in (narrow, desktop):
        assert wide["allowance"] - wide["name"] > 200, wide  # beside it, as a column


def test_what_is_at_risk_now_is_named_like_the_objectives(report_world):
    world = report_world
    Outage.objects.create(
        external_id="inc-4712",
        service=world.service,
        start=datetime(2026, 12, 1, 10, tzinfo=UTC),
        end=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
    )
    # Not in the reported month's results: its name comes from the objectives in force.
    ComplianceResult.objects.filter(key="availability").delete()
    contact = Contact.objects.create(
        party=world.party_x, name="Rita", email="rita@x.example", role=ContactRole.REPORT_RECIPIENT
    )
    subscription = ReportSubscription.objects.create(
        party=world.party_x, contact=contact, attach_pdf=False
    )
    assert run_send(subscription, "2026-11") == "sent"

    [message] = mail.outbox
    assert f"At risk now: {LONG_NAME} — " in message.body
    assert "At risk now: availability" not in message.body

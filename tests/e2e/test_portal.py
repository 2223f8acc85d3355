"""The customer portal in a real browser, on the demo's data (issue 8).

alice (Globex) signs in, sees Globex and never Initech, opens a missed month, its
breaching tickets and one ticket's clock, downloads the period's PDF and CSV, accepts
the revision waiting for her (with the confirmation step) and disputes a credit, which a
provider manager then resolves over the API; bob (Initech) gets 404 on every one of
alice's URLs. Every portal page is checked with axe-core (0 critical, 0 serious) at a
desktop and a phone viewport, where no page may scroll sideways; the figures are links
that the keyboard reaches, with a visible focus. Screenshots go to .e2e-shots/portal/.

The tests run in file order: the sweep over every page comes before the actions that
change what those pages show (the acceptance, the dispute).
"""

from __future__ import annotations

import csv
import io
import re
import zlib
from datetime import datetime
from pathlib import Path

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM
from tests.e2e.portal_fixtures import DESKTOP, PHONE, portal_ids

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Debian's Chromium at {CHROMIUM}"),
]

AXE = Axe()  # axe-core from the installed package (axe.min.js), injected into the page
MAX_TABS = 400


@pytest.fixture(scope="module")
def ids(portal_site, django_db_blocker):
    with django_db_blocker.unblock():
        return portal_ids(portal_site.slug)


# --- checks every page gets -------------------------------------------------------------


def serious_violations(page: Page) -> list[str]:
    results = AXE.run(page)
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes'][:3]]}"
        for v in results.response["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def sideways_overflow(page: Page) -> int:
    """How many pixels the page is wider than the viewport (0: no sideways scroll)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def check_page(page: Page, shots: Path, name: str) -> None:
    width = page.viewport_size["width"]
    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    assert serious_violations(page) == [], f"{name} at {width} px"
    if width <= PHONE["width"]:
        assert sideways_overflow(page) <= 0, f"{name} scrolls sideways at {width} px"


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF with its compressed objects inflated (outline, metadata, text operators)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"".join(parts)


# --- alice ------------------------------------------------------------------------------


def test_alice_signs_in_and_sees_globex_never_initech(portal_page, portal_shots):
    page = portal_page(None)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill("not her password")
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    check_page(page, portal_shots, "login-error")

    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Service levels")).to_be_visible()
    for reference in ("NW-GLOBEX-CORP", "NW-GLOBEX-DE", "NW-GLOBEX-DE-K8S"):
        expect(page.get_by_role("link", name=reference, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting for your acceptance")).to_be_visible()
    for page_url in ("/", "/credits/"):
        page.goto(page_url)
        assert "Initech" not in page.content() and "NW-INITECH" not in page.content()


def test_alice_opens_a_missed_month_its_breaches_and_a_ticket(portal_page, portal_shots, ids):
    page = portal_page("alice")
    card = page.locator(
        "section.card", has=page.get_by_role("link", name="NW-GLOBEX-DE", exact=True)
    )
    clocked = card.locator(
        "article.objective-card",
        has=page.get_by_role("heading", name=re.compile("response|resolution", re.I)),
    )
    missed = clocked.locator("a.tile.missed").first  # a month in which tickets breached
    expect(missed).to_be_visible()
    missed.focus()  # the keyboard opens it: the figure is a link, not a tooltip
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/agreements/\d+/periods/\d{4}-\d{2}/$"))
    expect(page.get_by_role("heading", name="Tickets that breached")).to_be_visible()
    rows = page.locator("table:has(th:text('over by')) tbody tr")
    assert rows.count() > 0
    first = rows.first
    expect(first.locator("td.num.bad")).to_contain_text(re.compile(r"\d+ (h|min)"))
    expect(page.get_by_text(re.compile(r"\d+ tickets? went over"))).to_be_visible()
    check_page(page, portal_shots, "period")

    ticket_id = first.locator("td").first.get_by_role("link").inner_text()
    first.get_by_role("link", name=ticket_id).click()

    expect(page.get_by_role("heading", name=f"Ticket {ticket_id}")).to_be_visible()
    expect(page.locator(".badge.missed", has_text="breached").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"on the clock of .* allowed")).first).to_be_visible()
    expect(page.locator("svg.clockbar").first).to_be_visible()
    expect(page.get_by_role("cell", name="running, past the deadline").first).to_be_visible()
    check_page(page, portal_shots, "ticket")


def test_alice_downloads_the_pdf_and_the_csv(portal_page, ids, tmp_path):
    page = portal_page("alice")
    period = ids["missed"]
    page.goto(f"/agreements/{ids['de']}/periods/{period}/")

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Download PDF").click()
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Download CSV").click()

    pdf = pdf_download.value
    assert pdf.suggested_filename == f"NW-GLOBEX-DE-{period}.pdf"
    content = Path(pdf.path()).read_bytes()
    assert content.startswith(b"%PDF")
    assert period.encode() in pdf_objects(content)  # the report names its period
    sheet = csv_download.value
    assert sheet.suggested_filename == f"NW-GLOBEX-DE-{period}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(sheet.path()).read_text(encoding="utf-8"))))
    assert rows and {"record", "period", "opened_at", "clock_seconds"} <= set(rows[0])
    breaches = [row for row in rows if row["record"] == "breach"]
    assert breaches and all(row["period"] == period for row in rows)
    for row in breaches:
        assert datetime.fromisoformat(row["opened_at"]).utcoffset() is not None


def _alice_pages(page: Page, ids: dict) -> dict[str, str]:
    de = ids["de"]
    period = f"/agreements/{de}/periods/{ids['missed']}/"
    page.goto(period)
    ticket = page.locator("table:has(th:text('over by')) tbody tr a").first.get_attribute("href")
    pending = ids["pending"]
    return {
        "overview": "/",
        "agreement": f"/agreements/{de}/",
        "agreement-corporate": f"/agreements/{ids['agreements']['NW-GLOBEX-CORP']}/",
        "agreement-service": f"/agreements/{ids['agreements']['NW-GLOBEX-DE-K8S']}/",
        "period": period,
        "ticket": ticket,
        "revisions": f"/agreements/{de}/revisions/",
        "revision": f"/agreements/{de}/revisions/{pending}/",
        "compare": f"/agreements/{de}/revisions/{pending}/compare/?against=1",
        "accept": f"/agreements/{de}/revisions/{pending}/accept/",
        "credits": "/credits/",
        "credit": f"/credits/{ids['credit']}/",
        "subscriptions": "/subscriptions/",
    }


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_passes_axe_and_a_phone_never_scrolls_sideways(
    portal_page, portal_shots, ids, viewport
):
    alice = portal_page("alice", viewport)
    for name, url in _alice_pages(alice, ids).items():
        response = alice.goto(url)
        assert response.status == 200, name
        check_page(alice, portal_shots, f"alice-{name}")

    dora = portal_page("dora", viewport)  # an internal department: no credit basis
    internal = ids["agreements"]["NW-FIN-ERP"]
    for name, url in {"overview": "/", "agreement": f"/agreements/{internal}/"}.items():
        dora.goto(url)
        check_page(dora, portal_shots, f"dora-{name}")
    expect(dora.get_by_text("Internal agreement: no service credits apply.")).to_be_visible()

    manager = portal_page("manager", viewport)  # provider staff: the customer switcher
    manager.goto("/")
    manager.get_by_label("View the portal as").select_option(label="Initech")
    manager.get_by_role("button", name="Show").click()
    expect(manager.get_by_role("link", name="NW-INITECH", exact=True)).to_be_visible()
    expect(manager.get_by_role("link", name="NW-GLOBEX-DE", exact=True)).to_have_count(0)
    check_page(manager, portal_shots, "manager-overview")

    anonymous = portal_page(None, viewport)
    for name, url in {"login": "/login/", "reset": "/password-reset/", "not-found": "/x/"}.items():
        anonymous.goto(url)
        check_page(anonymous, portal_shots, f"anonymous-{name}")


def test_the_keyboard_reaches_every_figure_with_a_visible_focus(portal_page, ids):
    page = portal_page("alice")
    page.goto(f"/agreements/{ids['de']}/")
    tiles = page.locator("a.tile")
    total = tiles.count()
    assert total >= 12

    reached: set[str] = set()
    outlines: set[str] = set()
    page.locator("body").focus()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const el = document.activeElement;
                 if (!el || !el.matches('a.tile')) return null;
                 const style = getComputedStyle(el);
                 const index = [...document.querySelectorAll('a.tile')].indexOf(el);
                 return [String(index), style.outlineStyle + ' ' + style.outlineWidth]; }"""
        )
        if focused:
            reached.add(focused[0])
            outlines.add(focused[1])
        if len(reached) == total:
            break

    assert len(reached) == total, f"{len(reached)} of {total} period tiles reached by Tab"
    assert all(not outline.startswith("none") and outline != "solid 0px" for outline in outlines)


def test_alice_accepts_the_revision_waiting_for_her(portal_page, portal_shots, ids):
    page = portal_page("alice")
    pending = ids["pending"]
    page.get_by_role("link", name=f"Review and accept revision {pending}").click()

    expect(
        page.get_by_role("heading", name=f"Accept revision {pending} of NW-GLOBEX-DE")
    ).to_be_visible()
    expect(
        page.get_by_role("heading", name=f"What changes against revision {pending - 1}")
    ).to_be_visible()
    button = page.get_by_role("button", name=f"Accept revision {pending}")
    button.click()  # not confirmed yet: the browser keeps the form (the box is required)
    expect(page).to_have_url(re.compile(r"/accept/$"))
    page.get_by_label("I have read this revision and accept it").check()
    button.click()

    expect(page.get_by_text(f"You accepted revision {pending}.")).to_be_visible()
    expect(page.locator(".badge", has_text="Accepted")).to_be_visible()
    expect(page.get_by_text("by Alice Andersen")).to_be_visible()
    check_page(page, portal_shots, "accepted")
    page.goto("/")
    expect(page.get_by_role("heading", name="Waiting for your acceptance")).to_have_count(0)


def _api_token(site, username: str) -> str:
    response = requests.post(
        f"{site.direct}/api/v1/auth/token/",
        json={"username": username, "password": PASSWORD},
        headers={"Host": site.host},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def test_alice_disputes_a_credit_and_a_provider_manager_resolves_it(
    portal_page, portal_site, portal_shots, ids
):
    assert ids["credit"], "the demo has a calculated credit of NW-GLOBEX-DE"
    page = portal_page("alice")
    page.goto("/credits/")
    page.locator(f"a[href='/credits/{ids['credit']}/']").click()
    expect(page.get_by_role("heading", name="How it was calculated")).to_be_visible()
    expect(page.get_by_text("applied to this credit").first).to_be_visible()

    page.get_by_role("button", name="Dispute").click()  # without a reason
    expect(page.get_by_role("alert")).to_contain_text("Give a reason")
    page.get_by_label("Why do you dispute this credit?").fill(
        "Ticket 6 waited on us: our contact was on holiday, the clock should have paused."
    )
    page.get_by_role("button", name="Dispute").click()

    expect(page.get_by_text("Your dispute was recorded")).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("Disputed")
    expect(page.get_by_text("our contact was on holiday")).to_be_visible()
    check_page(page, portal_shots, "disputed")

    token = _api_token(portal_site, "manager")
    resolved = requests.post(
        f"{portal_site.direct}/api/v1/credits/{ids['credit']}/resolve/",
        json={"resolution": "Agreed: one ticket less counts as breached.", "note": "Checked."},
        headers={"Host": portal_site.host, "Authorization": f"Token {token}"},
        timeout=10,
    )
    assert resolved.status_code == 200, resolved.text

    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("Resolved")
    expect(page.get_by_text("Agreed: one ticket less counts as breached.").first).to_be_visible()


# --- bob ----------------------------------------------------------------------------------


def test_bob_gets_404_on_every_one_of_alices_urls(portal_page, ids):
    alice = portal_page("alice")
    urls = _alice_pages(alice, ids)
    for reference in ("NW-GLOBEX-CORP", "NW-GLOBEX-DE-K8S"):
        pk = ids["agreements"][reference]
        urls[reference] = f"/agreements/{pk}/"
        urls[f"{reference}-period"] = f"/agreements/{pk}/periods/{ids['missed']}/"
    urls["pdf"] = f"{urls['period']}report.pdf"
    urls["csv"] = f"{urls['period']}report.csv"
    own = {
        name: url for name, url in urls.items() if name in ("overview", "credits", "subscriptions")
    }
    theirs = {name: url for name, url in urls.items() if name not in own}

    bob = portal_page("bob")
    for name, url in theirs.items():
        response = bob.goto(url)
        assert response.status == 404, f"{name}: {url} answered {response.status}"
        assert "Globex" not in bob.content(), name
    for name, url in own.items():
        bob.goto(url)
        assert "Globex" not in bob.content() and "NW-GLOBEX" not in bob.content(), name
    # The actions, posted from bob's page with his own CSRF token (as a form would).
    csrf = next(c["value"] for c in bob.context.cookies() if c["name"] == "slaportal_csrftoken")
    for url, body in [
        (f"/credits/{ids['credit']}/dispute/", "reason=mine+now"),
        (urls["accept"], "confirm=on"),
    ]:
        status = bob.evaluate(
            """async ([url, body, token]) => (await fetch(url, {method: "POST", body,
                 headers: {"Content-Type": "application/x-www-form-urlencoded",
                           "X-CSRFToken": token}})).status""",
            [url, body, csrf],
        )
        assert status == 404, f"POST {url} answered {status}"

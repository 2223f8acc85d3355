"""The acceptance scenario in a real browser: a provider manager drafts, approves and
revises a three-tier agreement in the admin; the customer's manager accepts over the API.

Steps depend on each other, so the scenario is one test; each step is a helper
named after what the user does. Screenshots land in /tmp/e2e-shots/.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Debian's Chromium at {CHROMIUM}"),
]

CHANGE_URL = re.compile(r"/admin/revisions/revision/(\d+)/change/$")


# --- what a user does in the admin --------------------------------------------------------


def admin_login(page: Page, username: str) -> None:
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()


def open_model(page: Page, name: str) -> None:
    """From the admin index, the model's own link (not its app's section heading)."""
    page.goto("/admin/")
    page.get_by_role("rowheader", name=name, exact=True).get_by_role("link").click()


def expect_message(page: Page, text: str, level: str = "success") -> None:
    expect(page.locator(f"ul.messagelist li.{level}")).to_contain_text(text)


def pick(page: Page, field: str, search: str, choice: str | None = None) -> None:
    """Choose in an autocomplete (select2) field like a user: open, type, click."""
    choice = choice or search
    page.locator(f"#id_{field} + .select2 .select2-selection").click()
    box = page.locator(".select2-container--open .select2-search__field")
    expect(box).to_be_focused()
    box.press_sequentially(search)
    option = page.locator(
        ".select2-container--open .select2-results__option:not(.loading-results)",
        has_text=choice,
    )
    expect(option).to_have_count(1)
    option.click()
    expect(page.locator(f"#select2-id_{field}-container")).to_contain_text(choice)


def add_agreement(
    page: Page,
    *,
    reference: str,
    title: str,
    customer: str,
    tier: str,
    parent: str | None,
    term_start: date,
    requires_acceptance: bool = True,
    services: tuple[str, ...] = (),
) -> None:
    open_model(page, "Agreements")
    page.get_by_role("link", name="Add agreement").click()
    expect(page).to_have_url(re.compile(r"/admin/agreements/agreement/add/$"))
    page.fill("#id_reference", reference)
    page.fill("#id_title", title)
    pick(page, "provider", "Northwind")
    pick(page, "customer", customer)
    page.select_option("#id_tier", tier)
    if parent:
        pick(page, "parent", parent)
    for service in services:
        page.select_option("#id_services_from", label=service)
        page.click("#id_services_add")
    page.fill("#id_term_start", term_start.isoformat())
    page.fill("#id_monthly_fee", "1200.00")
    page.set_checked("#id_requires_acceptance", requires_acceptance)
    page.locator("input[name=_save]").click()
    expect_message(page, f"{reference} — {title}")
    expect(page).to_have_url(re.compile(r"/admin/agreements/agreement/$"))


def add_inline_row(page: Page, group: str) -> str:
    """Click "Add another …" under an inline; return the new row's field prefix."""
    before = page.locator(f"#{group}-group .dynamic-{group}").count()
    page.locator(f"#{group}-group .add-row a").click()
    expect(page.locator(f"#{group}-group .dynamic-{group}")).to_have_count(before + 1)
    return f"id_{group}-{before}-"


def add_revision(
    page: Page,
    *,
    agreement: str,
    effective_from: date,
    summary: str,
    overview: str,
    objective: dict[str, str],
) -> int:
    open_model(page, "Revisions")
    page.get_by_role("link", name="Add revision").click()
    expect(page).to_have_url(re.compile(r"/admin/revisions/revision/add/$"))
    pick(page, "agreement", agreement)
    page.fill("#id_effective_from", effective_from.isoformat())
    page.fill("#id_summary", summary)

    section = add_inline_row(page, "sections")
    page.select_option(f"#{section}key", "overview")
    page.fill(f"#{section}body", overview)

    row = add_inline_row(page, "objectives")
    for name, value in objective.items():
        field = page.locator(f"#{row}{name}")
        if name in {"calendar", "service"}:  # foreign keys: choose by the label shown
            field.select_option(label=value)
        elif field.evaluate("node => node.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)

    page.locator("input[name=_continue]").click()
    expect_message(page, "was added successfully")
    expect(page).to_have_url(CHANGE_URL)
    return int(CHANGE_URL.search(page.url).group(1))


def approve(page: Page, number: int) -> None:
    page.get_by_role("button", name="Approve", exact=True).click()
    expect_message(page, f"Revision {number} approved.")
    expect(page.locator(".field-status .readonly")).to_have_text("Approved")


def field_prefix_of_objective(page: Page, key: str) -> str:
    key_input = page.locator(f'#objectives-group input[name$="-key"][value="{key}"]')
    expect(key_input).to_have_count(1)
    return key_input.get_attribute("id").removesuffix("key")


# --- the scenario -------------------------------------------------------------------------


def test_provider_drafts_approves_revises_and_the_customer_accepts(
    page: Page, e2e_tenant, e2e_server, shots
):
    month_start = timezone.localdate().replace(day=1)

    # a. The provider manager signs in to the admin.
    admin_login(page, "boss")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#user-tools")).to_contain_text("Bob")

    # b. Three agreements, corporate → customer → service.
    add_agreement(
        page,
        reference="E2E-CORP",
        title="Globex corporate framework",
        customer="Globex Group",
        tier="corporate",
        parent=None,
        term_start=month_start,
        requires_acceptance=False,  # the framework binds on approval
    )
    add_agreement(
        page,
        reference="E2E-CUST",
        title="Globex Germany",
        customer="Globex DE",
        tier="customer",
        parent="E2E-CORP",
        term_start=month_start,
    )
    add_agreement(
        page,
        reference="E2E-SVC",
        title="Globex DE hosting",
        customer="Globex DE",
        tier="service",
        parent="E2E-CUST",
        term_start=month_start,
        services=("Hosting",),
    )
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)

    def row(reference: str):
        return rows.filter(has=page.locator("th.field-reference", has_text=reference))

    for reference, tier, parent in (
        ("E2E-CORP", "Corporate level", "-"),
        ("E2E-CUST", "Customer level", "E2E-CORP — Globex corporate framework"),
        ("E2E-SVC", "Service level", "E2E-CUST — Globex Germany"),
    ):
        expect(row(reference).locator("td.field-tier")).to_have_text(tier)
        expect(row(reference).locator("td.field-parent")).to_have_text(parent)
        expect(row(reference).locator("td.field-status")).to_have_text("Draft")
    page.screenshot(path=str(shots / "01-agreement-list.png"), full_page=True)

    # c. The corporate objective every child inherits, approved.
    add_revision(
        page,
        agreement="E2E-CORP",
        effective_from=month_start,
        summary="Service desk response",
        overview="Group-wide service desk commitments.",
        objective={
            "key": "desk_response",
            "name": "Service desk response",
            "metric": "response_time",
            "target": "90",
            "comparison": "gte",
            "threshold_seconds": "3600",
            "period": "month",
            "calendar": "Berlin office (Europe/Berlin)",
        },
    )
    approve(page, 1)

    # c. Revision 1 of the service agreement, with its availability objective.
    rev1 = add_revision(
        page,
        agreement="E2E-SVC",
        effective_from=month_start,
        summary="First hosting terms",
        overview="Managed hosting of the Globex DE shop.",
        objective={
            "key": "availability",
            "name": "Shop availability",
            "metric": "availability",
            "target": "99.9",
            "comparison": "gte",
            "period": "month",
            "service": "Hosting",
        },
    )
    expect(page.locator(".field-status .readonly")).to_have_text("Draft")

    # d. Approve: the revision is frozen, the page read-only.
    approve(page, 1)
    expect(page.locator("input[name=_save]")).to_have_count(0)
    expect(page.locator("input[name=_continue]")).to_have_count(0)
    expect(page.locator(".errornote")).to_contain_text("can no longer change")
    for group in ("objectives", "sections"):
        editable = page.locator(
            f"#{group}-group input:not([type=hidden]), #{group}-group select, "
            f"#{group}-group textarea"
        )
        expect(editable).to_have_count(0)
    expect(page.locator("#objectives-group td.field-key")).to_have_text(["availability"])
    expect(page.locator("#objectives-group td.field-target")).to_contain_text(["99.9"])
    expect(page.locator("#id_effective_from")).to_have_count(0)
    page.screenshot(path=str(shots / "02-approved-revision-read-only.png"), full_page=True)

    # e. New draft from it; raise the availability target.
    page.get_by_role("button", name="New draft from this").click()
    expect_message(page, "Draft revision 2 created from revision 1.")
    expect(page).to_have_url(CHANGE_URL)
    rev2 = int(CHANGE_URL.search(page.url).group(1))
    assert rev2 != rev1
    expect(page.locator(".field-status .readonly")).to_have_text("Draft")
    prefix = field_prefix_of_objective(page, "availability")
    expect(page.locator(f"#{prefix}target")).to_have_value(re.compile(r"^99\.90*$"))
    page.fill(f"#{prefix}target", "99.95")
    page.fill("#id_summary", "Higher availability")
    page.locator("input[name=_continue]").click()
    expect_message(page, "was changed successfully")
    expect(page.locator(f"#{prefix}target")).to_have_value(re.compile(r"^99\.950*$"))

    # f. The diff against revision 1.
    page.get_by_role("link", name="Show diff").click()
    expect(page).to_have_url(re.compile(rf"/admin/revisions/revision/{rev2}/diff/$"))
    expect(page.locator("#content-main h2")).to_have_text("Revision 1 → revision 2")
    changed = page.locator(
        "#content-main tr", has=page.get_by_role("cell", name="availability", exact=True)
    )
    expect(changed).to_have_count(1)
    cells = changed.locator("td")
    expect(cells.nth(0)).to_have_text("changed")
    expect(cells.nth(2)).to_contain_text("target")
    expect(cells.nth(2).locator(".diff-del")).to_have_text("99.9")
    expect(cells.nth(2).locator(".diff-add")).to_have_text("99.95")
    page.screenshot(path=str(shots / "03-diff.png"), full_page=True)

    # g. Approve revision 2.
    page.goto(f"/admin/revisions/revision/{rev2}/change/")
    approve(page, 2)

    # h. The customer's manager accepts revision 2 over the API.
    api = requests.Session()
    api.headers["Host"] = e2e_server.host
    base = f"{e2e_server.direct}/api/v1"
    token = api.post(
        f"{base}/auth/token/", json={"username": "carol", "password": PASSWORD}, timeout=10
    )
    assert token.status_code == 200, token.text
    api.headers["Authorization"] = f"Token {token.json()['token']}"
    accepted = api.post(f"{base}/revisions/{rev2}/accept/", timeout=10)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["is_binding"] is True
    # Revision 1 is checked in test_revision_overtaken_before_acceptance_is_superseded.

    # i. History of revision 2: in the admin and in the history table.
    page.goto(f"/admin/revisions/revision/{rev2}/history/")
    history = page.locator("#change-history")
    expect(history).to_be_visible()
    headers = history.locator("thead th").all_inner_texts()
    changed_by = [h.strip().lower() for h in headers].index("changed by")
    users = history.locator(f"tbody tr td:nth-child({changed_by + 1})").all_inner_texts()
    assert "boss" in {u.strip() for u in users}, users
    assert "carol" in {u.strip() for u in users}, users
    page.screenshot(path=str(shots / "04-history.png"), full_page=True)

    from django_tenants.utils import schema_context

    from apps.agreements.models import Agreement
    from apps.revisions.models import Revision
    from apps.revisions.selectors import effective_objectives

    with schema_context(e2e_tenant.schema):
        stamped = set(
            Revision.history.filter(id=rev2).values_list("history_user__username", flat=True)
        )
        assert {"boss", "carol"} <= stamped, stamped

        # Inheritance: the service agreement has its own availability (99.95, rev. 2)
        # and the corporate desk_response objective.
        svc = Agreement.objects.get(reference="E2E-SVC")
        on = Revision.objects.get(pk=rev2).effective_from
        found = {item.key: item for item in effective_objectives(svc, on)}
        assert set(found) == {"availability", "desk_response"}, found
        assert found["availability"].objective.target == Decimal("99.95")
        assert not found["availability"].inherited
        assert found["desk_response"].inherited
        assert found["desk_response"].agreement.reference == "E2E-CORP"

    # No request of the whole flow crashed on the server.
    assert "Traceback" not in e2e_server.log.read_text(errors="replace"), e2e_server.log_tail()


def test_customer_cannot_use_the_admin_but_has_the_portal(page: Page, e2e_server, shots):
    admin_login(page, "carol")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    expect(page.locator(".errornote")).to_contain_text("staff account")
    page.screenshot(path=str(shots / "05-customer-refused-by-admin.png"), full_page=True)

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))

    page.goto("/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.fill("#id_username", "carol")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Service levels")).to_be_visible()
    expect(page.get_by_text("Welcome, Carol Customer.")).to_be_visible()
    expect(page.locator("header.topbar")).not_to_contain_text("Admin")


def _flow_revision(slug: str, reference: str, number: int):
    from django_tenants.utils import schema_context

    from apps.revisions.models import Revision

    with schema_context(slug):
        return Revision.objects.filter(agreement__reference=reference, number=number).first()


def _carol_api(server) -> tuple[requests.Session, str]:
    api = requests.Session()
    api.headers["Host"] = server.host
    base = f"{server.direct}/api/v1"
    token = api.post(
        f"{base}/auth/token/", json={"username": "carol", "password": PASSWORD}, timeout=10
    )
    assert token.status_code == 200, token.text
    api.headers["Authorization"] = f"Token {token.json()['token']}"
    return api, base


def test_revision_overtaken_before_acceptance_is_superseded(e2e_tenant, e2e_server):
    """After the flow: revision 1 of E2E-SVC (approved, never accepted) was overtaken by
    revision 2 (approved and accepted). It must be superseded, not left awaiting acceptance."""
    rev1 = _flow_revision(e2e_tenant.slug, "E2E-SVC", 1)
    rev2 = _flow_revision(e2e_tenant.slug, "E2E-SVC", 2)
    if rev1 is None or rev2 is None or rev2.status != "accepted":
        pytest.skip("needs the state the admin flow test leaves behind")
    api, base = _carol_api(e2e_server)
    first = api.get(f"{base}/revisions/{rev1.pk}/", timeout=10)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "superseded", first.json()
    assert first.json()["superseded_by_number"] == 2


def test_overtaken_revision_can_no_longer_be_accepted(e2e_tenant, e2e_server):
    """Accepting revision 1 after revision 2 is binding must be refused as a state conflict
    (409), not leave two 'accepted', binding revisions side by side, neither superseded.
    (Runs last: when the bug is present, it changes revision 1.)"""
    rev1 = _flow_revision(e2e_tenant.slug, "E2E-SVC", 1)
    rev2 = _flow_revision(e2e_tenant.slug, "E2E-SVC", 2)
    if rev1 is None or rev2 is None or rev2.status != "accepted":
        pytest.skip("needs the state the admin flow test leaves behind")
    api, base = _carol_api(e2e_server)
    late = api.post(f"{base}/revisions/{rev1.pk}/accept/", timeout=10)
    assert late.status_code == 409, late.json()
    assert "superseded" in late.json()["status"][0]

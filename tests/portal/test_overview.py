"""The overview (/) and the agreement page: current state, the twelve periods as
links, the chart, the quarter roll-up, open credits, banners; in fixed queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from apps.measurements.models import Outage
from apps.parties.models import MembershipRole, PartyKind
from apps.parties.services import membership_grant, party_save
from tests.conftest import PASSWORD, TENANT_A, agreement_for, sign_in
from tests.portal.conftest import add_agreements, queries_of


def _card(page: str, reference: str) -> str:
    """The overview's section of one agreement."""
    start = page.index(f">{reference}</a>")
    end = page.find('<section class="card" aria-labelledby="agreement-', start)
    return page[start : end if end > 0 else len(page)]


def test_the_overview_shows_own_agreements_with_twelve_linked_periods(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get("/").text

    assert portal.agreement.reference in page
    assert portal.world.agreement_y.reference not in page
    card = _card(page, portal.agreement.reference)
    base = f"/agreements/{portal.agreement.pk}/periods/"
    # Two objectives, twelve periods each (Dec 2025 … Nov 2026), every one a link.
    tiles = re.findall(r'<a class="tile (\w+)" href="([^"]+)"', card)
    assert len(tiles) == 24
    assert {href for _, href in tiles} == {
        f"{base}{year}-{month:02d}/"
        for year, month in [(2025, 12)] + [(2026, m) for m in range(1, 12)]
    }
    assert ("missed", f"{base}2026-10/") in tiles and ("met", f"{base}2026-09/") in tiles
    # The figure is written in the tile, not hidden in a tooltip; so is the status, for
    # screen readers, next to the symbol.
    october = card[card.index(f'<a class="tile missed" href="{base}2026-10/"') :][:400]
    assert "Oct 2026" in october and "99.73 %" in october and "missed" in october
    # This period and the last one, provisional; the chart; the quarter roll-up.
    assert "This period · Nov 2026" in card and "provisional" in card
    assert card.count('<svg class="chart"') == 2 and 'class="target"' in card
    assert "Q4 2026" in card and "0 of 1 months met" in card


def test_the_overview_banners_and_open_credits(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get("/").text

    assert "Waiting for your acceptance" in page
    assert f"/agreements/{portal.agreement.pk}/revisions/2/accept/" in page
    assert "Open service credits" in page and "150.00 EUR" in page  # October's
    assert f"/credits/{portal.credit.pk}/" in page


def test_the_agreement_page(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get(f"/agreements/{portal.agreement.pk}/").text

    assert "Objectives in force" in page and "Availability ≥ 99.9 %, per month" in page
    assert "Revision 2 is waiting for your acceptance" in page
    assert "1,000.00 EUR / month" in page  # the credit basis
    assert "15 % of 1,000.00 EUR = 150.00 EUR" in page
    assert page.count('<a class="tile ') == 24
    assert "The hosting levels." in page  # the text of the revision in force
    # Where each objective's calendar comes from: here no level names one.
    assert "no calendar anywhere: all hours count, in the tenant&#x27;s timezone" in page


def test_the_open_period_shows_the_error_budget(portal, client_a):
    now = datetime(2026, 11, 15, 10, tzinfo=UTC)
    with schema_context(TENANT_A.schema):
        Outage.objects.create(
            external_id="budget",
            service=portal.world.service,
            start=now - timedelta(hours=2),
            end=now - timedelta(hours=2) + timedelta(minutes=30),
        )
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get(f"/agreements/{portal.agreement.pk}/").text

    assert "This period so far" in page and "Hosting availability" in page
    assert "30 min" in page  # downtime used
    assert "43 min" in page  # 99.9 % of November (30 days) allows 43 min 12 s


def test_an_internal_department_sees_no_credit_basis(world_a, client_a):
    with schema_context(TENANT_A.schema):
        finance = party_save(
            acting_user=world_a.admin,
            name="Finance",
            kind=PartyKind.INTERNAL,
            parent=world_a.provider,
        )
        internal = agreement_for(world_a, "INT-1", "service", customer=finance)
        dora = get_user_model().objects.create_user(username="dora_alpha", password=PASSWORD)
        membership_grant(
            user=dora, party=finance, role=MembershipRole.MANAGER, acting_user=world_a.admin
        )
    sign_in(client_a, "dora_alpha")

    page = client_a.get(f"/agreements/{internal.pk}/").text
    credits = client_a.get("/credits/").text

    assert "Internal agreement: no service credits apply." in page
    assert "Credit basis" not in page
    assert "no service credits apply" in credits


def test_overview_and_agreement_take_the_same_queries_for_ten_times_the_data(portal, client_a):
    sign_in(client_a, "customer_x_alpha")
    urls = ["/", f"/agreements/{portal.agreement.pk}/"]
    small = [queries_of(client_a, url) for url in urls]

    add_agreements(portal, 9)
    assert client_a.get("/").text.count('<a class="tile ') == 10 * 24

    assert [queries_of(client_a, url) for url in urls] == small

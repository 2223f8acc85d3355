"""Credits in the portal: the ledger with totals, one credit with its schedule and
history, and disputes (a manager of the customer, with a reason)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django_tenants.utils import schema_context

from apps.credits.models import CreditEvent, CreditStatus, ServiceCredit
from apps.credits.transitions import credit_dispute, credit_resolve
from apps.portal.views.credits import credit_explanation
from tests.conftest import TENANT_A, api_as, sign_in


def test_the_ledger_with_totals_per_year_and_currency(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get("/credits/").text

    assert "Totals per year and currency" in page
    assert "<td>2026</td>" in page and "150.00 EUR" in page
    assert "Oct 2026" in page and portal.agreement.reference in page
    assert "15 % of 1,000.00 EUR = 150.00 EUR" in page
    assert "Calculated" in page  # status, with the dated history under it


def test_a_credit_of_nothing_always_says_why():
    base = {
        "percent": Decimal("0"),
        "uncapped_percent": Decimal("0"),
        "cap_percent": Decimal("30"),
        "currency": "EUR",
        "amount": Decimal("0"),
        "calculated_at": datetime(2026, 11, 1, tzinfo=UTC),
    }
    no_fee = ServiceCredit(fee_basis=Decimal("0"), **{**base, "percent": Decimal("5")})
    no_tier = ServiceCredit(fee_basis=Decimal("1000"), **base)
    settled = ServiceCredit(
        fee_basis=Decimal("1000"),
        status=CreditStatus.RESOLVED,
        resolution="The outage was ours to announce.",
        **{**base, "percent": Decimal("5")},
    )

    assert "no fee to take a share of" in credit_explanation(no_fee)
    assert "No credit tier matched" in credit_explanation(no_tier)
    assert "Set to nothing when the dispute was resolved" in credit_explanation(settled)
    assert "The outage was ours to announce." in credit_explanation(settled)


def test_one_credit_explains_itself_and_shows_the_schedule(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get(f"/credits/{portal.credit.pk}/").text

    assert "150.00 EUR" in page and "Calculated" in page
    assert "Hosting availability" in page and "First response within an hour" in page
    assert "99.73 %" in page and "≥ 99.9 %" in page
    # the schedule: tiers in words, with what each is worth a month, the used ones marked
    assert "attained below 99.9 %" in page and "100.00 EUR" in page and "50.00 EUR" in page
    assert page.count("applied to this credit") == 2
    assert "at most 30 % of the fee per period" in page and "300.00 EUR" in page
    assert f'action="/credits/{portal.credit.pk}/dispute/"' in page


def test_disputing_needs_a_reason(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    response = client_a.post(f"/credits/{portal.credit.pk}/dispute/", {"reason": "   "})

    assert response.status_code == 400
    assert "Give a reason; the provider reads it." in response.text
    with schema_context(TENANT_A.schema):
        assert ServiceCredit.objects.get(pk=portal.credit.pk).status == CreditStatus.CALCULATED


def test_a_dispute_is_recorded_and_the_provider_resolves_it(portal, client_a, api_a):
    sign_in(client_a, "customer_x_alpha")
    url = f"/credits/{portal.credit.pk}/"

    response = client_a.post(f"{url}dispute/", {"reason": "The outage of 20 Oct was announced."})

    assert response.status_code == 302 and response["Location"] == url
    with schema_context(TENANT_A.schema):
        credit = ServiceCredit.objects.get(pk=portal.credit.pk)
        event = CreditEvent.objects.filter(credit=credit).order_by("-pk").first()
    assert credit.status == CreditStatus.DISPUTED
    assert event.to_status == CreditStatus.DISPUTED and event.by_id == portal.world.customer_x.pk
    assert event.note == "The outage of 20 Oct was announced."
    page = client_a.get(url).text
    assert "Your dispute was recorded" in page and "You disputed this credit" in page
    assert "The outage of 20 Oct was announced." in page
    assert 'name="reason"' not in page  # no second dispute
    again = client_a.post(f"{url}dispute/", {"reason": "Again."})
    assert again.status_code == 302 and again["Location"] == url

    with schema_context(TENANT_A.schema):
        api_as(api_a, portal.world.manager)
    resolved = api_a.post(
        f"/api/v1/credits/{credit.pk}/resolve/",
        {"resolution": "Agreed: the outage counts half.", "amount": "100.00"},
        format="json",
    )

    assert resolved.status_code == 200, resolved.content
    page = client_a.get(url).text
    assert "Resolved" in page and "Agreed: the outage counts half." in page
    assert "100.00 EUR" in page


def test_a_resolved_credit_of_nothing_is_explained_in_the_ledger(portal, client_a):
    with schema_context(TENANT_A.schema):
        credit_dispute(credit=portal.credit, acting_user=portal.world.customer_x, note="No.")
        credit_resolve(
            credit=portal.credit,
            acting_user=portal.world.manager,
            resolution="Waived.",
            amount=Decimal("0"),
        )
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get("/credits/").text

    assert "0.00 EUR" in page and "Set to nothing when the dispute was resolved." in page


def test_a_get_of_the_dispute_form_target_goes_to_the_credit(portal, client_a):
    """A reload or a shared link of the form's target is not a bare 405 page."""
    from tests.conftest import sign_in

    sign_in(client_a, "customer_x_alpha")
    credit = portal.credit
    response = client_a.get(f"/credits/{credit.pk}/dispute/")
    assert response.status_code == 302 and response["Location"] == f"/credits/{credit.pk}/"

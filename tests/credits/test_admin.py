"""The provider admin for credits: read-only, events inline, actions calling the services,
and the "Resolve dispute" tool."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.calendars.periods import parse_period
from apps.credits.models import ServiceCredit
from apps.credits.services import credit_calculate
from apps.credits.transitions import credit_dispute
from apps.parties.services import provider_staff_group_ensure
from tests.conftest import PASSWORD, TENANT_A, TENANT_B
from tests.credits.helpers import result

CHANGELIST = "/admin/credits/servicecredit/"


@pytest.fixture
def credit(world_a):
    with schema_context(TENANT_A.schema):
        result(world_a, attained="99.5")
        return credit_calculate(agreement=world_a.agreement_x, period=parse_period("2026-10"))


def _signed_in(client, user):
    response = client.post(
        "/admin/login/", {"username": user.username, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    return client


def _act(client, action, credit, note=""):
    data = {"action": action, "_selected_action": [credit.pk], "note": note}
    return client.post(CHANGELIST, data, follow=True)


def _status(credit) -> str:
    with schema_context(TENANT_A.schema):
        return ServiceCredit.objects.get(pk=credit.pk).status


def test_credit_opens_read_only_with_its_events(world_a, credit, client_a):
    client = _signed_in(client_a, world_a.admin)

    listing = client.get(CHANGELIST)
    page = client.get(f"{CHANGELIST}{credit.pk}/change/")

    assert listing.status_code == 200 and world_a.agreement_x.reference in listing.text
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert "Calculated: 10 % of 1000.00 EUR = 100.00 EUR." in page.text
    forged = client.post(f"{CHANGELIST}{credit.pk}/change/", {"amount": "1"})
    assert forged.status_code == 403
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.get(f"{CHANGELIST}{credit.pk}/history/").status_code == 200


def test_void_action_needs_a_note_then_voids(world_a, credit, client_a):
    client = _signed_in(client_a, world_a.admin)

    refused = _act(client, "void_selected", credit)
    assert "Say why you void the credit." in refused.text
    assert _status(credit) == "calculated"

    voided = _act(client, "void_selected", credit, note="Duplicate of a manual credit.")
    assert f"{world_a.agreement_x.reference} 2026-10: voided." in voided.text
    assert _status(credit) == "void"
    with schema_context(TENANT_A.schema):
        event = ServiceCredit.objects.get(pk=credit.pk).events.last()
        assert (event.note, event.by) == ("Duplicate of a manual credit.", world_a.admin)


def test_approve_and_issue_actions_follow_the_lifecycle(world_a, credit, client_a):
    client = _signed_in(client_a, world_a.admin)

    too_early = _act(client, "issue_selected", credit)
    assert "Allowed moves from calculated: approved, disputed, void." in too_early.text

    _act(client, "approve_selected", credit)
    assert _status(credit) == "approved"
    _act(client, "issue_selected", credit)
    assert _status(credit) == "issued"


def test_staff_who_is_not_a_manager_is_refused(world_a, credit, client_a):
    with schema_context(TENANT_A.schema):
        world_a.staff.set_password(PASSWORD)
        world_a.staff.save()
        world_a.staff.groups.add(provider_staff_group_ensure())
    client = _signed_in(client_a, world_a.staff)

    response = _act(client, "approve_selected", credit)

    assert "Only a provider manager may approve a credit." in response.text
    assert _status(credit) == "calculated"


# --- disputes: seen in the list, resolved on the credit's page ----------------------------

REASON = "The outage on 6 October lasted five hours, not three."


@pytest.fixture
def disputed(world_a, credit):
    """``credit`` (10 % of 1000.00 EUR = 100.00 EUR, cap 100 %) disputed by customer X."""
    with schema_context(TENANT_A.schema):
        return credit_dispute(credit=credit, acting_user=world_a.customer_x, note=REASON)


@pytest.fixture
def manager(world_a, client_a):
    """Tenant A's client signed in as the provider manager (staff in the staff group)."""
    with schema_context(TENANT_A.schema):
        world_a.manager.groups.add(provider_staff_group_ensure())
    return _signed_in(client_a, world_a.manager)


def _resolve_url(credit) -> str:
    return f"{CHANGELIST}{credit.pk}/resolve/"


def _state(credit) -> tuple[str, Decimal, str, int]:
    with schema_context(TENANT_A.schema):
        fresh = ServiceCredit.objects.get(pk=credit.pk)
        return fresh.status, fresh.amount, fresh.resolution, fresh.events.count()


def _staff_in_group(world_a, client):
    """The tenant's staff user, in the provider staff group but no manager of the provider."""
    with schema_context(TENANT_A.schema):
        world_a.staff.set_password(PASSWORD)
        world_a.staff.save()
        world_a.staff.groups.add(provider_staff_group_ensure())
    return _signed_in(client, world_a.staff)


def test_an_open_dispute_stands_out_in_the_list_with_amounts_as_money(world_a, disputed, manager):
    listing = manager.get(CHANGELIST)
    only_disputed = manager.get(f"{CHANGELIST}?status__exact=disputed")

    assert listing.status_code == 200
    assert 'id="open-disputes"' in listing.text
    assert "1 credit disputed by the customer, awaiting resolution" in listing.text
    assert "credit-status-disputed" in listing.text and ">Disputed<" in listing.text
    assert '<td class="field-amount_text">100.00 EUR</td>' in listing.text
    assert only_disputed.status_code == 200
    assert world_a.agreement_x.reference in only_disputed.text
    assert manager.get(f"{CHANGELIST}?status__exact=issued").text.count("credit-status-") == 0


def test_the_credit_page_shows_the_dispute_money_and_objectives_and_the_tool(disputed, manager):
    page = manager.get(f"{CHANGELIST}{disputed.pk}/change/")

    assert page.status_code == 200
    assert f'href="{_resolve_url(disputed)}"' in page.text and "Resolve dispute" in page.text
    assert "The customer disputes this credit." in page.text and REASON in page.text
    assert f"{REASON}<br><small>by customer_x_alpha, " in page.text  # the read-only row
    assert "100.00 EUR" in page.text and "1,000.00 EUR" in page.text  # amount, fee basis
    assert "100.000" not in page.text and "1000.000" not in page.text
    # The missed objectives as a table, not as JSON.
    assert 'class="credit-objectives"' in page.text
    assert "<td>availability</td>" in page.text and "99.5 %" in page.text
    assert '"key":' not in page.text and "&quot;key&quot;" not in page.text


def test_the_tool_resolves_through_the_service(world_a, disputed, manager):
    form = manager.get(_resolve_url(disputed))
    assert form.status_code == 200
    assert REASON in form.text and 'value="100.00"' in form.text
    assert "from 0 up to the period&#x27;s cap of 1,000.00 EUR" in form.text

    done = manager.post(
        _resolve_url(disputed),
        {"resolution": "Outage confirmed at five hours.", "amount": "250.00", "note": "Call 4."},
        follow=True,
    )

    assert done.redirect_chain == [(f"{CHANGELIST}{disputed.pk}/change/", 302)]
    assert f"{world_a.agreement_x.reference} 2026-10: dispute resolved" in done.text
    assert "250.00 EUR" in done.text
    assert 'id="resolve-dispute"' not in done.text  # resolved: no tool any more
    with schema_context(TENANT_A.schema):
        credit = ServiceCredit.objects.get(pk=disputed.pk)
        event = credit.events.last()
        assert (credit.status, credit.amount) == ("resolved", Decimal("250.00"))
        assert credit.resolution == "Outage confirmed at five hours."
        assert (event.from_status, event.to_status, event.by) == (
            "disputed",
            "resolved",
            world_a.manager,
        )
        assert event.amount == Decimal("250.00")
        assert event.note == (
            "Outage confirmed at five hours.\nCall 4.\n"
            "Amount changed from 100.00 EUR to 250.00 EUR."
        )
        assert credit.history.order_by("-history_id").first().history_user == world_a.manager


def test_a_blank_amount_keeps_the_amount(disputed, manager):
    manager.post(_resolve_url(disputed), {"resolution": "Explained the tiers.", "amount": ""})

    assert _state(disputed)[:3] == ("resolved", Decimal("100.00"), "Explained the tiers.")


@pytest.mark.parametrize(
    ("resolution", "amount", "message"),
    [
        ("", "50.00", "Describe how the dispute was resolved."),
        ("   ", "50.00", "Describe how the dispute was resolved."),
        ("Agreed.", "-1", "The amount must lie between 0 and the cap of 1000.00 EUR."),
        ("Agreed.", "1000.01", "The amount must lie between 0 and the cap of 1000.00 EUR."),
        ("Agreed.", "50.005", "EUR has 2 decimal places."),
        ("Agreed.", "fifty", "Give the amount in digits with a decimal point"),
        ("Agreed.", "²", "Give the amount in digits with a decimal point"),
        ("Agreed.", "٥٠", "Give the amount in digits with a decimal point"),  # Arabic-Indic 50
        ("Agreed.", "５０", "Give the amount in digits with a decimal point"),  # fullwidth 50
        ("Agreed.", "1e2", "Give the amount in digits with a decimal point"),
        ("Agreed.", "NaN", "Give the amount in digits with a decimal point"),
        ("Agreed.", "50,00", "Give the amount in digits with a decimal point"),
        ("Agreed.", "1" * 20, "no more than 14 digits"),
        ("Agreed\x00.", "50.00", "Null characters are not allowed."),
    ],
)
def test_bad_input_is_shown_on_the_form_and_writes_nothing(
    disputed, manager, resolution, amount, message
):
    before = _state(disputed)

    response = manager.post(_resolve_url(disputed), {"resolution": resolution, "amount": amount})

    assert response.status_code == 200
    assert "Nothing was changed" in response.text
    assert message in response.text.replace("&#x27;", "'")
    assert REASON in response.text  # the page still shows what the customer said
    assert _state(disputed) == before


def test_a_credit_that_is_not_disputed_offers_no_tool_and_refuses_a_forged_post(
    world_a, credit, manager
):
    page = manager.get(f"{CHANGELIST}{credit.pk}/change/")
    assert page.status_code == 200
    assert "resolve/" not in page.text and "The customer disputes" not in page.text
    before = _state(credit)

    opened = manager.get(_resolve_url(credit), follow=True)
    forged = manager.post(
        _resolve_url(credit), {"resolution": "Forged.", "amount": "0"}, follow=True
    )

    for response in (opened, forged):
        assert response.redirect_chain == [(f"{CHANGELIST}{credit.pk}/change/", 302)]
        assert "The credit is calculated; only a disputed credit can be resolved." in (
            response.text
        )
    assert _state(credit) == before
    assert manager.get(f"{CHANGELIST}999999/resolve/").status_code == 404


def test_approving_a_disputed_credit_points_to_the_tool(world_a, disputed, manager):
    response = _act(manager, "approve_selected", disputed)

    assert "Allowed moves from disputed: resolved, void." in response.text
    assert "To resolve the dispute, open" in response.text
    assert f'href="{CHANGELIST}{disputed.pk}/change/"' in response.text
    assert _status(disputed) == "disputed"


def test_staff_who_may_not_resolve_get_403_and_no_tool(world_a, disputed, client_a):
    url = _resolve_url(disputed)
    before = _state(disputed)
    # Prove the negative first: the provider manager is let in.
    with schema_context(TENANT_A.schema):
        world_a.manager.groups.add(provider_staff_group_ensure())
    manager = _signed_in(Client(HTTP_HOST=TENANT_A.host), world_a.manager)
    assert manager.get(url).status_code == 200

    staff = _staff_in_group(world_a, client_a)
    page = staff.get(f"{CHANGELIST}{disputed.pk}/change/")
    assert page.status_code == 200 and REASON in page.text  # they see the dispute...
    assert url not in page.text and "Only a provider manager may resolve" in page.text
    assert staff.get(url).status_code == 403  # ...but may not resolve it
    assert staff.post(url, {"resolution": "Mine.", "amount": "0"}).status_code == 403
    assert _state(disputed) == before


def test_staff_without_the_credit_permission_get_403_and_customers_the_sign_in(
    world_a, disputed, client_a
):
    url = _resolve_url(disputed)
    # The provider manager without the staff group's model permissions.
    outsider = _signed_in(client_a, world_a.manager)
    assert outsider.get(url).status_code == 403
    assert outsider.post(url, {"resolution": "Mine.", "amount": "0"}).status_code == 403

    customer = Client(HTTP_HOST=TENANT_A.host)
    assert customer.post("/login/", {"username": "customer_x_alpha", "password": PASSWORD})
    denied = customer.post(url, {"resolution": "Mine.", "amount": "1000.00"})
    assert denied.status_code == 302 and denied["Location"].startswith("/admin/login/")
    assert _state(disputed)[0] == "disputed"


def test_another_tenants_host_cannot_reach_the_tool(world_a, world_b, disputed):
    url = _resolve_url(disputed)
    with schema_context(TENANT_B.schema):
        assert not ServiceCredit.objects.filter(pk=disputed.pk).exists()
    admin_b = _signed_in(Client(HTTP_HOST=TENANT_B.host), world_b.admin)

    opened = admin_b.get(url)
    forged = admin_b.post(url, {"resolution": "From B.", "amount": "0"})

    assert opened.status_code == 404 and forged.status_code == 404
    assert REASON not in opened.text and world_a.agreement_x.reference not in opened.text
    assert _state(disputed)[0] == "disputed"

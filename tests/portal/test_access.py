"""The permission cast on every portal URL: the other customer and the other tenant get
404, anonymous users are sent to sign in; only then does the owner get the page.

Actions (accept a revision, dispute a credit) are for a *manager* of the customer: a
viewer of the same customer gets 403 and nothing is written.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.credits.models import CreditStatus, ServiceCredit
from apps.reports.models import ReportSubscription
from apps.revisions.models import Revision, RevisionStatus
from tests.conftest import TENANT_A, TENANT_B, sign_in

ACTIONS = ("revision-accept", "credit-dispute", "subscription-stop")


def action_posts(portal) -> dict[str, tuple[str, dict[str, str]]]:
    """The POSTs that change something, with valid data."""
    return {
        "revision-accept": (portal.urls["revision-accept"], {"confirm": "on"}),
        "credit-dispute": (
            f"/credits/{portal.credit.pk}/dispute/",
            {"reason": "Ticket 7 is ours."},
        ),
        "subscription-stop": ("/subscriptions/", {"subscription": str(portal.subscription.pk)}),
    }


def _unchanged(portal) -> None:
    with schema_context(TENANT_A.schema):
        assert Revision.objects.get(pk=portal.pending.pk).status == RevisionStatus.APPROVED
        assert ServiceCredit.objects.get(pk=portal.credit.pk).status == CreditStatus.CALCULATED
        assert ReportSubscription.objects.get(pk=portal.subscription.pk).active


def test_other_customer_gets_404_on_every_url(portal, client_a):
    sign_in(client_a, "customer_y_alpha")

    for name, url in portal.urls.items():
        assert client_a.get(url).status_code == 404, name
    for name, (url, data) in action_posts(portal).items():
        assert client_a.post(url, data).status_code == 404, name
    _unchanged(portal)
    # Lists answer, without X's objects in them.
    for url in ("/", "/credits/", "/subscriptions/"):
        page = client_a.get(url)
        assert page.status_code == 200 and portal.agreement.reference not in page.text, url
    assert portal.subscription.recipient not in client_a.get("/subscriptions/").text


def test_other_tenant_gets_404_on_every_url(portal):
    client_b = Client(HTTP_HOST=TENANT_B.host)
    sign_in(client_b, "customer_x_beta")  # a customer of B: sees nothing of A

    for name, url in portal.urls.items():
        assert client_b.get(url).status_code == 404, name
    for name, (url, data) in action_posts(portal).items():
        assert client_b.post(url, data).status_code == 404, name
    _unchanged(portal)
    assert portal.agreement.reference not in client_b.get("/").text


def test_a_session_of_tenant_a_is_no_session_on_tenant_b(portal, client_a):
    sign_in(client_a, "customer_x_alpha")
    client_b = Client(HTTP_HOST=TENANT_B.host)
    for name, morsel in client_a.cookies.items():
        client_b.cookies[name] = morsel.value

    for name, url in portal.urls.items():
        response = client_b.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), name
    # and the credentials of A's user do not sign in on B
    assert (
        client_b.post("/login/", {"username": "customer_x_alpha", "password": "x"}).status_code
        == 200
    )


def test_anonymous_is_sent_to_sign_in_everywhere(portal, client_a):
    for name, url in {**portal.urls, "home": "/", "credits": "/credits/"}.items():
        response = client_a.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/login/?next="), name
    for name, (url, data) in action_posts(portal).items():
        response = client_a.post(url, data)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), name
    assert client_a.post("/view-as/", {"party": "1"})["Location"].startswith("/login/")
    _unchanged(portal)


def test_the_customer_gets_every_page(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    for name, url in {**portal.urls, "home": "/", "credits": "/credits/"}.items():
        assert client_a.get(url).status_code == 200, name


def test_a_viewer_may_look_but_neither_accept_nor_dispute(portal, client_a):
    sign_in(client_a, "viewer_x_alpha")
    for name, url in portal.urls.items():
        expected = 403 if name == "revision-accept" else 200
        assert client_a.get(url).status_code == expected, name
    posts = action_posts(portal)

    for name in ("revision-accept", "credit-dispute"):
        url, data = posts[name]
        response = client_a.post(url, data)
        assert response.status_code == 403, name
    _unchanged(portal)
    # The pages offer the viewer neither action.
    assert (
        "Accept revision 2" not in client_a.get(portal.urls["revision"].replace("/1/", "/2/")).text
    )
    assert 'name="reason"' not in client_a.get(portal.urls["credit"]).text


def test_a_ticket_of_another_agreement_is_404_under_this_one(portal, client_a):
    """The ticket id is looked up through the agreement's objectives: a ticket the
    agreement does not count (here: customer Y's) is not shown under its URL."""
    from datetime import timedelta

    from apps.measurements.models import Ticket

    with schema_context(TENANT_A.schema):
        foreign = Ticket.objects.create(
            external_id="y-ticket",
            customer=portal.world.party_y,
            opened_at=portal.breaching.opened_at,
            first_response_at=portal.breaching.opened_at + timedelta(hours=5),
        )
    sign_in(client_a, "customer_x_alpha")
    base = portal.urls["ticket"].rsplit("/tickets/", 1)[0]

    assert client_a.get(f"{base}/tickets/{foreign.pk}/").status_code == 404
    assert client_a.get(f"{base}/tickets/{portal.breaching.pk}/").status_code == 200


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "26-10", "2026-10x", "١٩٧٠-01"])
def test_a_period_that_is_no_period_is_404(portal, client_a, period):
    sign_in(client_a, "customer_x_alpha")
    base = f"/agreements/{portal.agreement.pk}/periods/{period}/"

    for suffix in ("", "report.pdf", "report.csv", f"tickets/{portal.breaching.pk}/"):
        assert client_a.get(base + suffix).status_code == 404, suffix


def test_compare_against_garbage_is_404(portal, client_a):
    sign_in(client_a, "customer_x_alpha")
    base = f"/agreements/{portal.agreement.pk}/revisions/2/compare/"

    for against in ("", "x", "²", "99", "-1", "1.5"):
        assert client_a.get(base, {"against": against}).status_code == 404, against
    assert client_a.get(base, {"against": "1"}).status_code == 200


def test_stopping_a_subscription_with_a_bad_id_is_404_not_500(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    for value in ("", "abc", "²", "99999999999999999999"):
        assert client_a.post("/subscriptions/", {"subscription": value}).status_code == 404, value
    _unchanged(portal)


def test_view_as_is_for_provider_staff_only(portal, client_a):
    sign_in(client_a, "customer_y_alpha")
    client_a.post("/view-as/", {"party": str(portal.world.party_x.pk)})

    assert portal.agreement.reference not in client_a.get("/").text
    assert client_a.get(portal.urls["agreement"]).status_code == 404


def test_provider_staff_narrow_the_portal_to_one_customer(portal, client_a):
    sign_in(client_a, "manager_alpha")
    y_reference = portal.world.agreement_y.reference
    assert y_reference in client_a.get("/").text

    client_a.post("/view-as/", {"party": str(portal.world.party_x.pk)})
    page = client_a.get("/")

    assert portal.agreement.reference in page.text and y_reference not in page.text
    assert client_a.get(f"/agreements/{portal.world.agreement_y.pk}/").status_code == 404
    client_a.post("/view-as/", {"party": ""})
    assert y_reference in client_a.get("/").text
    for garbage in ("abc", "0", "99999999"):
        assert client_a.post("/view-as/", {"party": garbage}).status_code == 302
        assert y_reference in client_a.get("/").text

"""Signing in and out, password reset by e-mail, the language, and unsubscribing."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context

from apps.parties.models import Preference
from apps.reports.emails import unsubscribe_token
from apps.reports.models import ReportSubscription
from tests.conftest import PASSWORD, TENANT_A, TENANT_B, sign_in
from tests.portal.conftest import OCTOBER


def test_a_wrong_password_is_a_form_error(portal, client_a):
    page = client_a.post("/login/", {"username": "customer_x_alpha", "password": "wrong"})

    assert page.status_code == 200
    assert 'role="alert"' in page.text and "correct username and password" in page.text
    assert 'value="customer_x_alpha"' in page.text  # the name stays filled in
    assert client_a.get("/").status_code == 302


def test_sign_out(portal, client_a):
    sign_in(client_a, "customer_x_alpha")
    assert client_a.get("/").status_code == 200

    response = client_a.post("/logout/")

    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client_a.get("/").status_code == 302


def test_password_reset_by_e_mail_links_to_the_tenants_host(portal, client_a):
    address = portal.world.customer_x.email
    sent = client_a.post("/password-reset/", {"email": address})
    assert sent.status_code == 302 and sent["Location"] == "/password-reset/sent/"

    assert len(mail.outbox) == 1 and mail.outbox[0].to == [address]
    # from the provider, as its reports and notices are (not a bare platform address)
    assert mail.outbox[0].from_email.startswith(f"{TENANT_A.name} <")
    link = re.search(
        r"http://alpha\.localhost/password-reset/[^/\s]+/[^/\s]+/", mail.outbox[0].body
    )
    assert link, mail.outbox[0].body
    form = client_a.get(link.group(0).removeprefix("http://alpha.localhost"), follow=True)
    assert form.status_code == 200 and 'name="new_password1"' in form.text
    done = client_a.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-long-password-7", "new_password2": "a-new-long-password-7"},
    )
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    sign_in(Client(HTTP_HOST=TENANT_A.host), "customer_x_alpha", "a-new-long-password-7")


def test_password_reset_tells_nobody_which_addresses_exist(portal, client_a):
    response = client_a.post("/password-reset/", {"email": "nobody@nowhere.example"})

    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []
    invalid = client_a.post("/password-reset/", {"email": "not an address"})
    assert invalid.status_code == 200 and 'aria-invalid="true"' in invalid.text


def test_german_from_the_browser_with_german_numbers(portal, client_a):
    sign_in(client_a, "customer_x_alpha")
    period = f"/agreements/{portal.agreement.pk}/periods/{OCTOBER.label}/"

    page = client_a.get(period, HTTP_ACCEPT_LANGUAGE="de").text
    overview = client_a.get("/", HTTP_ACCEPT_LANGUAGE="de").text

    assert '<html lang="de">' in page
    assert "Übersicht" in page and "PDF herunterladen" in page
    assert "Tickets mit Fristüberschreitung" in page
    assert "99,73 %" in page and "150,00 EUR" in page and "1.000,00 EUR" in page
    assert "Okt. 2026" in page or "Okt 2026" in page
    assert "Wartet auf Ihre Annahme" in overview and "99,73 %" in overview
    english = client_a.get(period, HTTP_ACCEPT_LANGUAGE="en").text
    assert "Download PDF" in english and "99.73 %" in english


def test_the_chosen_language_wins_over_the_browser(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    client_a.post("/language/", {"language": "de", "next": "/credits/"})

    with schema_context(TENANT_A.schema):
        assert Preference.objects.get(user=portal.world.customer_x).language == "de"
    assert "Gutschriften" in client_a.get("/credits/", HTTP_ACCEPT_LANGUAGE="en").text
    fresh = Client(HTTP_HOST=TENANT_A.host)  # a new sign-in remembers it
    sign_in(fresh, "customer_x_alpha")
    assert "Gutschriften" in fresh.get("/credits/", HTTP_ACCEPT_LANGUAGE="en").text
    client_a.post("/language/", {"language": ""})
    assert "Service credits" in client_a.get("/credits/", HTTP_ACCEPT_LANGUAGE="en").text
    # A made-up language or a foreign "next" changes nothing and goes home.
    response = client_a.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_unsubscribe_with_the_e_mails_token(portal, client_a):
    with schema_context(TENANT_A.schema):
        token = unsubscribe_token(portal.subscription)

    assert client_a.get(f"/reports/unsubscribe/{token}/").status_code == 200
    assert client_a.get("/reports/unsubscribe/forged/").status_code == 404
    assert client_a.post(f"/reports/unsubscribe/{token}/").status_code == 200
    with schema_context(TENANT_A.schema):
        assert not ReportSubscription.objects.get(pk=portal.subscription.pk).active


def test_an_unsubscribe_token_of_tenant_a_means_nothing_on_tenant_b(portal, world_b):
    """Subscription ids repeat across schemas: the token must name its tenant."""
    with schema_context(TENANT_A.schema):
        token = unsubscribe_token(portal.subscription)
    with schema_context(TENANT_B.schema):  # B's subscription with the same id
        ReportSubscription.objects.create(
            id=portal.subscription.pk, party=world_b.party_x, user=world_b.customer_x
        )

    response = Client(HTTP_HOST=TENANT_B.host).post(f"/reports/unsubscribe/{token}/")

    assert response.status_code == 404
    with schema_context(TENANT_B.schema):
        assert ReportSubscription.objects.get(pk=portal.subscription.pk).active


def test_other_tenants_password_does_not_sign_in_here(portal):
    client_b = Client(HTTP_HOST=TENANT_B.host)
    refused = client_b.post("/login/", {"username": "viewer_x_alpha", "password": PASSWORD})
    assert refused.status_code == 200 and 'role="alert"' in refused.text

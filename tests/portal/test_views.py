"""Customer portal pages: overview grid, agreement, revision changes — and who may see them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.agreements.models import Agreement
from apps.calendars.periods import Period
from apps.compliance.evaluation import evaluate_period
from apps.revisions.services import revision_new_draft
from tests.conftest import TENANT_A, TENANT_B, sign_in

# The pages read today's date (the grid's months, the revision in force, the open
# period's budget): every test here runs at this instant, in an open November 2026.
NOW = datetime(2026, 11, 15, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pinned_now(time_machine):
    """Before any other fixture, so world_a is signed and evaluated at NOW too."""
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def evaluated(world_a):
    """world_a with agreement_x evaluated for the open month (November 2026)."""
    with schema_context(TENANT_A.schema):
        month = NOW.date().replace(day=1)
        evaluate_period(agreements=[world_a.agreement_x], period=Period(month, "month"))
    return world_a


def test_overview_shows_own_agreements_and_their_grid(evaluated, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get("/")

    assert page.status_code == 200
    assert evaluated.agreement_x.reference in page.text
    assert evaluated.agreement_y.reference not in page.text
    # One row (availability) of twelve months: November, still open, is pending (on
    # track: no downtime); the other months were not evaluated.
    assert page.text.count('<td class="cell ') == 12
    assert page.text.count('<td class="cell pending"><a href="/agreements/') == 1
    assert page.text.count('<td class="cell none">') == 11


def test_agreement_page_for_its_customer(evaluated, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get(f"/agreements/{evaluated.agreement_x.pk}/")

    assert page.status_code == 200
    assert "Objectives in force" in page.text and "availability" in page.text
    assert "revision 1" in page.text


def test_other_customer_gets_404_everywhere(evaluated, client_a):
    sign_in(client_a, "customer_y_alpha")
    pk = evaluated.agreement_x.pk

    assert client_a.get(f"/agreements/{pk}/").status_code == 404
    assert client_a.get(f"/agreements/{pk}/revisions/1/").status_code == 404
    assert evaluated.agreement_x.reference not in client_a.get("/").text


def test_other_tenant_never_sees_this_tenants_agreement(evaluated, world_b):
    pk = evaluated.agreement_x.pk
    with schema_context(TENANT_B.schema):  # ids are per schema: B may use the same one
        same_id_in_b = Agreement.objects.filter(pk=pk).values_list("reference", flat=True).first()
    client = Client(HTTP_HOST=TENANT_B.host)
    sign_in(client, "manager_beta")
    response = client.get(f"/agreements/{pk}/")

    # B's host looks the id up in B only: B's own agreement of that id, or nothing.
    if same_id_in_b is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 200 and same_id_in_b in response.text
    assert evaluated.agreement_x.reference not in response.text
    # A's session is not a session on B.
    client_a = Client(HTTP_HOST=TENANT_A.host)
    sign_in(client_a, "customer_x_alpha")
    client_b = Client(HTTP_HOST=TENANT_B.host)
    for name, morsel in client_a.cookies.items():
        client_b.cookies[name] = morsel.value
    assert client_b.get(f"/agreements/{evaluated.agreement_x.pk}/").status_code == 302


def test_anonymous_is_sent_to_login(client_a, evaluated):
    response = client_a.get(f"/agreements/{evaluated.agreement_x.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_customers_never_see_drafts_and_see_changes(evaluated, client_a):
    with schema_context(TENANT_A.schema):
        revision_new_draft(revision=evaluated.revision_x, acting_user=evaluated.manager)
    sign_in(client_a, "customer_x_alpha")

    assert client_a.get(f"/agreements/{evaluated.agreement_x.pk}/revisions/2/").status_code == 404
    first = client_a.get(f"/agreements/{evaluated.agreement_x.pk}/revisions/1/compare/")
    assert first.status_code == 200 and "This is the first revision" in first.text
    missing = f"/agreements/{evaluated.agreement_x.pk}/revisions/1/compare/?against=7"
    assert client_a.get(missing).status_code == 404


def test_agreement_page_shows_the_error_budget_of_the_open_period(world_a, client_a):
    from datetime import timedelta

    import time_machine

    from apps.measurements.models import Outage

    now = datetime(2026, 11, 15, 12, tzinfo=UTC)  # mid-month: the outage is in this period
    with schema_context(TENANT_A.schema):
        Outage.objects.create(
            external_id="budget",
            service=world_a.service,
            start=now - timedelta(hours=2),
            end=now - timedelta(hours=2) + timedelta(minutes=30),
        )
    sign_in(client_a, "customer_x_alpha")

    with time_machine.travel(now, tick=False):
        page = client_a.get(f"/agreements/{world_a.agreement_x.pk}/")

    assert "This period so far" in page.text
    assert "30 min" in page.text  # downtime used
    # 99.9 % of November (30 days) allows 43 min 12 s of downtime.
    assert "43 min" in page.text

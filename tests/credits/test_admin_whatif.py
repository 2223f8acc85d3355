"""The revision editor's "What if…" tool: next to "Approve", a table for a chosen range."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.calendars.periods import parse_period
from apps.credits.settlement import period_settle
from apps.parties.services import provider_staff_group_ensure
from apps.revisions.models import Revision
from apps.revisions.services import objective_save, revision_new_draft
from tests.conftest import PASSWORD, TENANT_A, TENANT_B

NOW = datetime(2026, 11, 15, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pinned_now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def draft(bound):
    """bound (availability ≥ 99.9, 3 h down in April 2026) settled for April, and a draft
    that asks for ≥ 99.5 only."""
    with schema_context(TENANT_A.schema):
        period_settle(agreements=[bound.agreement], period=parse_period("2026-04"))
        revision = revision_new_draft(
            revision=bound.revision,
            acting_user=bound.world.manager,
            effective_from=date(2027, 1, 1),
        )
        objective_save(
            objective=revision.objectives.get(key="availability"),
            acting_user=bound.world.manager,
            target=Decimal("99.5"),
        )
    return revision


def _signed_in(client: Client, username: str) -> Client:
    response = client.post(
        "/admin/login/", {"username": username, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    return client


def test_the_tool_sits_next_to_approve_and_shows_the_last_twelve_months(draft, admin_client):
    change = admin_client.get(f"/admin/revisions/revision/{draft.pk}/change/")
    url = f"/admin/revisions/revision/{draft.pk}/what-if/"
    assert change.status_code == 200
    assert f'href="{url}"' in change.text and "What if…" in change.text
    assert change.text.index("What if…") < change.text.index(">Approve<")

    page = admin_client.get(url)

    assert page.status_code == 200
    assert 'value="2025-11"' in page.text and 'value="2026-10"' in page.text
    assert "2026-04" in page.text and "99.58 %" in page.text
    assert "≥ 99.5 %" in page.text and "≥ 99.9 %" in page.text
    assert "Engine 24x7 — set on the objective" in page.text


def test_a_chosen_range_and_a_bad_one(draft, admin_client):
    url = f"/admin/revisions/revision/{draft.pk}/what-if/"

    chosen = admin_client.get(url + "?from=2026-04&to=2026-04")
    bad = admin_client.get(url + "?from=2026-05&to=2026-04")

    assert chosen.status_code == 200 and "2026-04 – 2026-04" in chosen.text
    assert bad.status_code == 200 and "before it starts" in bad.text
    assert "Per period" not in bad.text
    assert admin_client.get("/admin/revisions/revision/999999/what-if/").status_code == 404


def test_staff_without_view_permission_get_403_and_customers_the_login(draft, world_a, client_a):
    url = f"/admin/revisions/revision/{draft.pk}/what-if/"
    with schema_context(TENANT_A.schema):
        world_a.staff.set_password(PASSWORD)
        world_a.staff.save()
    # Prove the negative first: staff without the revision permission are refused...
    staff = _signed_in(client_a, world_a.staff.username)
    assert staff.get(url).status_code == 403
    # ...and are let in once in the provider staff group.
    with schema_context(TENANT_A.schema):
        world_a.staff.groups.add(provider_staff_group_ensure())
    assert staff.get(url).status_code == 200
    customer = Client(HTTP_HOST=TENANT_A.host)
    assert customer.get(url).status_code == 302  # anonymous: the admin's sign-in
    assert customer.post("/login/", {"username": "customer_x_alpha", "password": PASSWORD})
    response = customer.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_other_tenant_finds_nothing(draft, world_b):
    client = _signed_in(Client(HTTP_HOST=TENANT_B.host), "admin_beta")
    with schema_context(TENANT_B.schema):
        same_id_in_b = Revision.objects.filter(pk=draft.pk).exists()
    response = client.get(f"/admin/revisions/revision/{draft.pk}/what-if/")
    if same_id_in_b:
        assert response.status_code == 200 and "ENGINE" not in response.text
    else:
        assert response.status_code == 404

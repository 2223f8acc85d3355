"""The provider admin for credits: read-only, events inline, actions calling the services."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.calendars.periods import parse_period
from apps.credits.models import ServiceCredit
from apps.credits.services import credit_calculate
from apps.parties.services import provider_staff_group_ensure
from tests.conftest import PASSWORD, TENANT_A
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

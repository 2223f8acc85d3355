"""The portal's what-if: what a revision awaiting acceptance would have meant last year —
for the customer who is asked to accept it, and nobody else."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.agreements.services import agreement_save
from apps.calendars.periods import parse_period
from apps.credits.settlement import period_settle
from apps.revisions.models import Objective
from apps.revisions.services import revision_approve, revision_new_draft
from tests.conftest import TENANT_A, TENANT_B, sign_in
from tests.factories import CalendarFactory

NOW = datetime(2026, 11, 15, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pinned_now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def asked(world_a):
    """agreement_x on the Berlin office's hours, settled for two of the last twelve months, and a
    draft revision 2 that adds a closure-rate objective without a calendar of its own."""
    with schema_context(TENANT_A.schema):
        berlin = CalendarFactory(name="Berlin office")
        agreement_save(agreement=world_a.agreement_x, acting_user=world_a.admin, calendar=berlin)
        for month in ("2025-11", "2026-10"):
            period_settle(agreements=[world_a.agreement_x], period=parse_period(month))
        draft = revision_new_draft(
            revision=world_a.revision_x,
            acting_user=world_a.manager,
            effective_from=date(2027, 1, 1),
        )
        Objective.objects.create(
            revision=draft,
            key="closure",
            name="Closure",
            metric="closure_rate",
            target=Decimal("90"),
        )
    world_a.draft = draft
    return world_a


def _url(world, number: int = 2) -> str:
    return f"/agreements/{world.agreement_x.pk}/revisions/{number}/what-if/"


def _approve(world) -> None:
    with schema_context(TENANT_A.schema):
        revision_approve(revision=world.draft, acting_user=world.manager)


def test_a_draft_is_404_and_an_approved_revision_shows_last_year(asked, client_a):
    sign_in(client_a, "customer_x_alpha")

    assert client_a.get(_url(asked)).status_code == 404  # a draft, first
    _approve(asked)
    page = client_a.get(_url(asked))

    assert page.status_code == 200
    assert "What this change would have meant for you last year" in page.text
    assert "2025-11 to 2026-10" in page.text  # the twelve finished months
    # Where each objective's calendar comes from (objective → agreement → default).
    assert "Office alpha — set on the objective" in page.text
    assert "Berlin office — from the agreement" in page.text
    assert "not judged" in page.text  # the new objective was never judged
    # The accept page links here.
    accept = client_a.get(f"/agreements/{asked.agreement_x.pk}/revisions/2/accept/")
    assert _url(asked) in accept.text


def test_only_a_revision_awaiting_acceptance_has_one(asked, client_a):
    _approve(asked)
    sign_in(client_a, "customer_x_alpha")
    assert client_a.get(_url(asked, number=1)).status_code == 404  # accepted: in force
    assert client_a.get(_url(asked, number=3)).status_code == 404


def test_other_customer_gets_404(asked, client_a):
    _approve(asked)
    sign_in(client_a, "customer_y_alpha")
    assert client_a.get(_url(asked)).status_code == 404


def test_other_tenant_gets_404(asked, world_b):
    _approve(asked)
    client = Client(HTTP_HOST=TENANT_B.host)
    sign_in(client, "customer_x_beta")
    # B's customer X has an agreement of its own, but revision 2 exists in A only.
    assert client.get(_url(asked)).status_code == 404
    with schema_context(TENANT_B.schema):
        own = f"/agreements/{world_b.agreement_x.pk}/revisions/2/what-if/"
    assert client.get(own).status_code == 404


def test_anonymous_is_sent_to_sign_in(asked, client_a):
    _approve(asked)
    response = client_a.get(_url(asked))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_bad_range_is_a_form_error_not_a_500(asked, client_a):
    _approve(asked)
    sign_in(client_a, "customer_x_alpha")
    for query, message in [
        ("?from=2026-10&to=2026-01", "before it starts"),
        ("?from=2023-01&to=2026-10", "At most 24 months"),
        ("?from=nonsense&to=2026-10", "is not a period"),
        ("?from=2026-01", "This field is required"),
    ]:
        page = client_a.get(_url(asked) + query)
        assert page.status_code == 200, query
        assert message in page.text, query
        assert "Month by month" not in page.text
    page = client_a.get(_url(asked) + "?from=2026-10&to=2026-10")
    assert page.status_code == 200 and "2026-10 to 2026-10" in page.text

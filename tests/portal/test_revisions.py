"""Revisions in the portal: the list, one revision, readable changes, and acceptance."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.revisions.models import Revision, RevisionStatus
from apps.revisions.services import revision_new_draft
from tests.conftest import TENANT_A, sign_in
from tests.portal.conftest import NOW


def test_the_list_says_who_approved_and_accepted_and_offers_acceptance(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get(f"/agreements/{portal.agreement.pk}/revisions/")

    assert page.status_code == 200
    assert "Revision 2" in page.text and "Revision 1" in page.text
    assert f"/agreements/{portal.agreement.pk}/revisions/2/accept/" in page.text
    assert f"/agreements/{portal.agreement.pk}/revisions/1/accept/" not in page.text
    assert "not yet" in page.text  # revision 2 is not accepted
    assert portal.world.customer_x.get_username() in page.text  # accepted revision 1


def test_customers_never_see_drafts(portal, client_a):
    with schema_context(TENANT_A.schema):
        revision_new_draft(revision=portal.pending, acting_user=portal.world.manager)
    sign_in(client_a, "customer_x_alpha")

    assert client_a.get(f"/agreements/{portal.agreement.pk}/revisions/3/").status_code == 404
    assert "Revision 3" not in client_a.get(f"/agreements/{portal.agreement.pk}/revisions/").text


def test_a_revision_reads_with_units_and_money(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get(f"/agreements/{portal.agreement.pk}/revisions/1/").text

    assert "Availability ≥ 99.9 %, per month" in page
    assert "First response within 1 h 00 min for ≥ 90 % of tickets, per month" in page
    assert "attained below 99.9 %" in page and "10 %" in page and "100.00 EUR" in page
    assert "30 % of the fee per period" in page
    assert "The hosting levels." in page


def test_changes_read_as_words_not_diff_syntax(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get(f"/agreements/{portal.agreement.pk}/revisions/2/compare/").text

    assert "Revision 2 compared with revision 1" in page
    assert "@@" not in page and "+Measured" not in page
    assert "99.9 % → 99.95 %" in page  # the objective's target, with its unit
    assert "Hosting availability" in page  # the objective by name
    assert "<ins>" in page and ", reported weekly" in page  # the words added
    # The review section did not change: said so, per section.
    review = page.split("<h3>Review</h3>", 1)[1]
    assert review.lstrip().startswith('<p class="muted">No text changes.</p>')


def test_compare_any_two(portal, client_a):
    sign_in(client_a, "customer_x_alpha")

    page = client_a.get(f"/agreements/{portal.agreement.pk}/revisions/1/compare/?against=2")

    assert page.status_code == 200 and "Revision 1 compared with revision 2" in page.text
    assert "99.95 % → 99.9 %" in page.text


def test_accepting_needs_the_confirmation_step(portal, client_a):
    sign_in(client_a, "customer_x_alpha")
    url = f"/agreements/{portal.agreement.pk}/revisions/2/accept/"

    step = client_a.get(url)
    assert step.status_code == 200
    assert 'name="confirm"' in step.text and "What changes against revision 1" in step.text

    refused = client_a.post(url, {})
    assert refused.status_code == 400 and "Tick the box to confirm" in refused.text
    with schema_context(TENANT_A.schema):
        assert Revision.objects.get(pk=portal.pending.pk).status == RevisionStatus.APPROVED


def test_accepting_records_who_when_and_from_where(portal, client_a):
    sign_in(client_a, "customer_x_alpha")
    url = f"/agreements/{portal.agreement.pk}/revisions/2/accept/"

    response = client_a.post(url, {"confirm": "on"}, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 302
    assert response["Location"] == f"/agreements/{portal.agreement.pk}/revisions/2/"
    with schema_context(TENANT_A.schema):
        revision = Revision.objects.get(pk=portal.pending.pk)
    assert revision.status == RevisionStatus.ACCEPTED
    assert revision.accepted_by_id == portal.world.customer_x.pk
    assert revision.accepted_at == NOW
    assert revision.accepted_from == "203.0.113.9"
    page = client_a.get(response["Location"]).text
    assert "You accepted revision 2" in page and "203.0.113.9" in page
    # Accepted: no more banner or button, and the accept URL sends back to the revision.
    assert "/revisions/2/accept/" not in client_a.get("/").text
    again = client_a.get(url)
    assert again.status_code == 302 and again["Location"].endswith("/revisions/2/")


def test_a_revision_of_an_agreement_without_acceptance_offers_none(portal, client_a):
    with schema_context(TENANT_A.schema):
        agreement = portal.agreement
        agreement.requires_acceptance = False
        agreement.save(update_fields=["requires_acceptance"])
    sign_in(client_a, "customer_x_alpha")

    assert "/revisions/2/accept/" not in client_a.get(f"/agreements/{agreement.pk}/revisions/").text
    assert (
        client_a.post(
            f"/agreements/{agreement.pk}/revisions/2/accept/", {"confirm": "on"}
        ).status_code
        == 302
    )
    with schema_context(TENANT_A.schema):
        assert Revision.objects.get(pk=portal.pending.pk).status == RevisionStatus.APPROVED

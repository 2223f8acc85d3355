"""The provider admin for revisions: read-only once approved, approve, new draft, diff, history."""

from django_tenants.utils import schema_context

from apps.revisions.models import Revision, RevisionStatus
from apps.revisions.services import revision_new_draft
from tests.conftest import TENANT_A, sign_in


def test_approved_revision_opens_read_only_and_refuses_a_post(world_a, admin_client):
    url = f"/admin/revisions/revision/{world_a.revision_x.pk}/change/"
    page = admin_client.get(url)

    assert page.status_code == 200
    assert "can no longer change" in page.text
    assert 'name="_save"' not in page.text
    assert "New draft from this" in page.text

    forged = admin_client.post(url, {"summary": "forged", "effective_from": "2026-01-01"})
    assert forged.status_code == 403
    with schema_context(TENANT_A.schema):
        assert Revision.objects.get(pk=world_a.revision_x.pk).summary == ""


def test_admin_new_draft_approve_and_diff(world_a, admin_client):
    created = admin_client.post(f"/admin/revisions/revision/{world_a.revision_x.pk}/new-draft/")
    assert created.status_code == 302
    with schema_context(TENANT_A.schema):
        draft = Revision.objects.get(agreement=world_a.agreement_x, number=2)
        objective = draft.objectives.get()
        objective.target = "99.95"
        objective.save()
    assert created["Location"].endswith(f"/admin/revisions/revision/{draft.pk}/change/")

    diff = admin_client.get(f"/admin/revisions/revision/{draft.pk}/diff/")
    assert diff.status_code == 200
    assert "availability" in diff.text and "99.9" in diff.text and "99.95" in diff.text

    approved = admin_client.post(f"/admin/revisions/revision/{draft.pk}/approve/", follow=True)
    assert "Revision 2 approved." in approved.text
    with schema_context(TENANT_A.schema):
        assert Revision.objects.get(pk=draft.pk).status == RevisionStatus.APPROVED


def test_staff_without_manager_role_cannot_approve_in_admin(world_a, client_a):
    with schema_context(TENANT_A.schema):
        from apps.parties.services import provider_staff_group_ensure

        world_a.staff.set_password("staff-pass-123")
        world_a.staff.save()
        world_a.staff.groups.add(provider_staff_group_ensure())
        draft = revision_new_draft(revision=world_a.revision_x, acting_user=world_a.manager)
    client_a.post(
        "/admin/login/",
        {"username": world_a.staff.username, "password": "staff-pass-123", "next": "/admin/"},
    )

    response = client_a.post(f"/admin/revisions/revision/{draft.pk}/approve/", follow=True)

    assert "Only a provider manager may approve" in response.text
    with schema_context(TENANT_A.schema):
        assert Revision.objects.get(pk=draft.pk).status == RevisionStatus.DRAFT


def test_admin_history_names_the_user(world_a, admin_client):
    page = admin_client.get(f"/admin/revisions/revision/{world_a.revision_x.pk}/history/")
    assert page.status_code == 200
    assert world_a.manager.username in page.text


def test_customer_cannot_use_the_admin(world_a, client_a):
    sign_in(client_a, "customer_x_alpha")
    response = client_a.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

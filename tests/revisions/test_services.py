"""Revision lifecycle: numbering, approval, acceptance, supersession, immutability, new drafts."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from apps.revisions.models import (
    CreditTier,
    Objective,
    Revision,
    RevisionLockedError,
    RevisionSection,
    RevisionStatus,
)
from apps.revisions.selectors import revision_in_force
from apps.revisions.services import (
    revision_accept,
    revision_approve,
    revision_create,
    revision_new_draft,
    revision_update,
)
from tests.factories import AgreementFactory


def test_revisions_are_numbered_per_agreement(world):
    draft = revision_new_draft(revision=world.revision_x, acting_user=world.manager)
    other = revision_create(
        agreement=world.agreement_y, acting_user=world.manager, effective_from=date(2026, 3, 1)
    )

    assert (world.revision_x.number, draft.number, other.number) == (1, 2, 1)


def test_effective_from_must_start_a_month(world):
    with pytest.raises(ValidationError) as excinfo:
        revision_create(
            agreement=world.agreement_y, acting_user=world.manager, effective_from=date(2026, 3, 15)
        )
    assert "first day of a month" in str(excinfo.value.message_dict["effective_from"])
    assert not world.agreement_y.revisions.exists()


def test_only_one_draft_at_a_time(world):
    revision_new_draft(revision=world.revision_x, acting_user=world.manager)
    with pytest.raises(ValidationError, match="already has a draft"):
        revision_new_draft(revision=world.revision_x, acting_user=world.manager)


def test_only_a_provider_manager_approves(world):
    draft = revision_create(
        agreement=world.agreement_y, acting_user=world.manager, effective_from=date(2026, 1, 1)
    )

    for outsider in (world.staff, world.customer_x, world.customer_y):
        with pytest.raises(PermissionDenied):
            revision_approve(revision=draft, acting_user=outsider)
        draft.refresh_from_db()
        assert draft.status == RevisionStatus.DRAFT

    revision_approve(revision=draft, acting_user=world.manager)
    draft.refresh_from_db()
    assert draft.status == RevisionStatus.APPROVED
    assert draft.approved_by == world.manager and draft.approved_at is not None


def test_approving_twice_is_a_clear_error(world):
    with pytest.raises(ValidationError, match="already accepted"):
        revision_approve(revision=world.revision_x, acting_user=world.manager)


def test_only_a_manager_of_the_customer_accepts(world):
    draft = revision_new_draft(revision=world.revision_x, acting_user=world.manager)
    revision_approve(revision=draft, acting_user=world.manager)

    for outsider in (world.customer_y, world.manager, world.staff):
        with pytest.raises(PermissionDenied):
            revision_accept(revision=draft, acting_user=outsider)

    revision_accept(revision=draft, acting_user=world.customer_x)
    draft.refresh_from_db()
    world.revision_x.refresh_from_db()
    assert draft.status == RevisionStatus.ACCEPTED and draft.accepted_by == world.customer_x
    assert world.revision_x.status == RevisionStatus.SUPERSEDED
    assert world.revision_x.superseded_by_number == 2


def test_a_manager_of_the_parent_company_accepts_for_a_subsidiary(world):
    from apps.parties.models import Party, PartyKind

    subsidiary = Party.objects.create(
        name="X Subsidiary", kind=PartyKind.CUSTOMER, parent=world.party_x
    )
    agreement = AgreementFactory(provider=world.provider, customer=subsidiary)
    revision = revision_create(
        agreement=agreement, acting_user=world.manager, effective_from=date(2026, 1, 1)
    )
    revision_approve(revision=revision, acting_user=world.manager)

    revision_accept(revision=revision, acting_user=world.customer_x)
    assert Revision.objects.get(pk=revision.pk).status == RevisionStatus.ACCEPTED


def test_acceptance_is_refused_when_not_required(world):
    world.agreement_y.requires_acceptance = False
    world.agreement_y.save()
    revision = revision_create(
        agreement=world.agreement_y, acting_user=world.manager, effective_from=date(2026, 1, 1)
    )
    revision_approve(revision=revision, acting_user=world.manager)
    revision.refresh_from_db()

    assert revision.is_binding
    world.agreement_y.refresh_from_db()
    assert world.agreement_y.signed_on is not None and world.agreement_y.status == "active"


def test_revision_in_force_follows_effective_dates_and_acceptance(world):
    draft = revision_new_draft(
        revision=world.revision_x, acting_user=world.manager, effective_from=date(2026, 6, 1)
    )
    revision_approve(revision=draft, acting_user=world.manager)
    # Approved but not yet accepted: revision 1 still governs every period.
    assert revision_in_force(world.agreement_x, date(2026, 7, 1)).number == 1

    revision_accept(revision=draft, acting_user=world.customer_x)
    assert revision_in_force(world.agreement_x, date(2026, 5, 31)).number == 1  # superseded
    assert revision_in_force(world.agreement_x, date(2026, 6, 1)).number == 2
    assert revision_in_force(world.agreement_x, date(2025, 12, 31)) is None


def test_a_later_revision_cannot_take_effect_before_an_earlier_one(world):
    draft = revision_new_draft(
        revision=world.revision_x, acting_user=world.manager, effective_from=date(2026, 2, 1)
    )
    revision_update(revision=draft, acting_user=world.manager, effective_from=date(2025, 12, 1))

    with pytest.raises(ValidationError) as excinfo:
        revision_approve(revision=draft, acting_user=world.manager)
    assert "effective_from" in excinfo.value.message_dict
    assert Revision.objects.get(pk=draft.pk).status == RevisionStatus.DRAFT


def test_new_draft_copies_text_objectives_and_tiers(world):
    draft = revision_new_draft(revision=world.revision_x, acting_user=world.manager)

    assert draft.created_from == world.revision_x
    assert draft.credit_cap_percent == world.revision_x.credit_cap_percent
    copied = draft.objectives.get(key="availability")
    assert copied.pk != world.objective_x.pk and copied.target == world.objective_x.target
    tier = CreditTier.objects.get(revision=draft)
    assert tier.objective == copied and tier.percent == Decimal("10")


# --- immutability ----------------------------------------------------------------------


def test_orm_refuses_to_change_an_approved_revision(world):
    revision = Revision.objects.get(pk=world.revision_x.pk)
    revision.summary = "sneaky"
    with pytest.raises(RevisionLockedError):
        revision.save()
    with pytest.raises(RevisionLockedError):
        revision.delete()
    assert Revision.objects.get(pk=revision.pk).summary == ""


def test_orm_refuses_to_change_what_hangs_off_an_approved_revision(world):
    objective = Objective.objects.get(pk=world.objective_x.pk)
    objective.target = Decimal("50")
    with pytest.raises(RevisionLockedError):
        objective.save()
    with pytest.raises(RevisionLockedError):
        Objective(
            revision=world.revision_x, key="new", metric="closure_rate", target=Decimal(90)
        ).save()
    with pytest.raises(RevisionLockedError):
        CreditTier.objects.get(pk=world.tier_x.pk).delete()
    with pytest.raises(RevisionLockedError):
        RevisionSection(revision=world.revision_x, key="overview", body="x").save()
    with pytest.raises(ValidationError):  # services raise the same, as a validation error
        revision_update(revision=world.revision_x, acting_user=world.manager, summary="x")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE revisions_revision SET summary = 'raw' WHERE id = %(revision)s",
        "UPDATE revisions_revision SET status = 'draft' WHERE id = %(revision)s",
        "DELETE FROM revisions_revision WHERE id = %(revision)s",
        "UPDATE revisions_objective SET target = 1 WHERE id = %(objective)s",
        "DELETE FROM revisions_objective WHERE id = %(objective)s",
        "UPDATE revisions_credittier SET percent = 99 WHERE id = %(tier)s",
        "INSERT INTO revisions_revisionsection (revision_id, key, body) "
        "VALUES (%(revision)s, 'review', 'raw')",
    ],
)
def test_database_refuses_raw_sql_changes(world, statement):
    params = {
        "revision": world.revision_x.pk,
        "objective": world.objective_x.pk,
        "tier": world.tier_x.pk,
    }
    with (
        pytest.raises(IntegrityError, match=r"immutable|cannot"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


def test_database_allows_the_status_to_move_on(world):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE revisions_revision SET status = 'superseded', superseded_at = now() "
            "WHERE id = %s",
            [world.revision_x.pk],
        )
    assert Revision.objects.get(pk=world.revision_x.pk).status == RevisionStatus.SUPERSEDED


def test_drafts_stay_editable_in_the_database(world):
    draft = revision_new_draft(revision=world.revision_x, acting_user=world.manager)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE revisions_objective SET target = 42 WHERE revision_id = %s", [draft.pk]
        )
    assert draft.objectives.get().target == Decimal("42")


def test_history_records_the_acting_user(world):
    draft = revision_new_draft(revision=world.revision_x, acting_user=world.manager)
    revision_approve(revision=draft, acting_user=world.manager)
    revision_accept(revision=draft, acting_user=world.customer_x)

    rows = list(Revision.history.filter(id=draft.pk).order_by("history_date"))
    assert [(r.status, r.history_user) for r in rows] == [
        ("draft", world.manager),
        ("draft", world.manager),  # created_from stamped
        ("approved", world.manager),
        ("accepted", world.customer_x),
    ]
    copied = Objective.history.filter(revision_id=draft.pk).get()
    assert copied.history_user == world.manager


def test_an_overtaken_revision_is_superseded_and_can_no_longer_be_accepted(world):
    first = revision_create(
        agreement=world.agreement_y, acting_user=world.manager, effective_from=date(2026, 1, 1)
    )
    revision_approve(revision=first, acting_user=world.manager)  # awaiting acceptance
    world.agreement_y.requires_acceptance = False
    world.agreement_y.save()
    second = revision_new_draft(
        revision=first, acting_user=world.manager, effective_from=date(2026, 2, 1)
    )
    revision_approve(revision=second, acting_user=world.manager)  # binding at once

    first.refresh_from_db()
    assert first.status == RevisionStatus.SUPERSEDED and first.superseded_by_number == 2
    world.agreement_y.requires_acceptance = True
    world.agreement_y.save()
    world.customer_y.memberships.update(role="manager")
    with pytest.raises(ValidationError, match="not awaiting acceptance"):
        revision_accept(revision=first, acting_user=world.customer_y)

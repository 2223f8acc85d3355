"""Writes to revisions: drafting, approval, customer acceptance, new drafts.

Approval and acceptance are the business rules of the product: who may do
them, in which state, and what happens to the revision that was in force.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.agreements.models import Agreement
from apps.agreements.services import agreement_on_first_binding_revision
from apps.core.access import ActingUser, is_provider_staff
from apps.core.errors import StateConflict
from apps.core.history import delete_as, save_as
from apps.core.services import instance_save
from apps.parties.selectors import is_provider_manager, party_ids_managed_by
from apps.revisions.models import (
    CreditTier,
    Objective,
    Revision,
    RevisionSection,
    RevisionStatus,
    SectionKey,
)
from apps.revisions.openslo.importing import ImportRefused, Plan, openslo_plan

REVISION_FIELDS = ("effective_from", "summary", "credit_cap_percent")


def _require_staff(user: ActingUser) -> None:
    if not is_provider_staff(user):
        raise PermissionDenied("Only provider staff may edit revisions.")


def _next_month_start(today: date) -> date:
    return today.replace(day=1) + relativedelta(months=1)


def _set_sections(*, revision: Revision, sections: dict[str, str], acting_user: ActingUser) -> None:
    unknown = sorted(set(sections) - set(SectionKey.values))
    if unknown:
        raise ValidationError({"sections": f"Unknown section(s): {', '.join(unknown)}."})
    existing = {section.key: section for section in revision.sections.all()}
    for key in set(existing) - set(sections):  # the given sections replace the old set
        delete_as(existing[key], acting_user)
    for key, body in sections.items():
        section = existing.get(key) or RevisionSection(revision=revision, key=key)
        if section.pk is None or section.body != body:
            section.body = body
            save_as(section, acting_user)


def revision_assign_number(*, revision: Revision) -> None:
    """Number a new revision after the agreement's last one (call inside a transaction)."""
    # Lock the agreement row so two drafts cannot take the same number.
    Agreement.objects.select_for_update().get(pk=revision.agreement_id)
    last = revision.agreement.revisions.order_by("-number").values_list("number", flat=True).first()
    revision.number = (last or 0) + 1


@transaction.atomic
def revision_create(
    *,
    agreement: Agreement,
    acting_user: ActingUser,
    effective_from: date,
    summary: str = "",
    sections: dict[str, str] | None = None,
    **data: Any,
) -> Revision:
    """A new draft numbered after the agreement's last revision."""
    _require_staff(acting_user)
    revision = Revision(agreement=agreement)
    revision_assign_number(revision=revision)
    instance_save(
        instance=revision,
        acting_user=acting_user,
        data={"effective_from": effective_from, "summary": summary, **data},
    )
    _set_sections(revision=revision, sections=sections or {}, acting_user=acting_user)
    return revision


@transaction.atomic
def revision_update(
    *,
    revision: Revision,
    acting_user: ActingUser,
    sections: dict[str, str] | None = None,
    **data: Any,
) -> Revision:
    _require_staff(acting_user)
    unknown = set(data) - set(REVISION_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    instance_save(instance=revision, acting_user=acting_user, data=data)
    if sections is not None:
        _set_sections(revision=revision, sections=sections, acting_user=acting_user)
    return revision


def _change_status(revision: Revision, acting_user: ActingUser, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(revision, name, value)
    revision._status_change = True
    try:
        save_as(revision, acting_user, update_fields=list(fields))
    finally:
        revision._status_change = False


def _come_into_force(revision: Revision, acting_user: ActingUser) -> None:
    """Supersede every earlier approved revision and sign the agreement if it was unsigned.

    That includes an earlier revision still awaiting acceptance: it has been
    overtaken, never governed a period, and can no longer be accepted.
    """
    now = timezone.now()
    earlier = revision.agreement.revisions.filter(
        number__lt=revision.number,
        status__in=[RevisionStatus.APPROVED, RevisionStatus.ACCEPTED],
    )
    for older in earlier.select_for_update():
        _change_status(
            older,
            acting_user,
            status=RevisionStatus.SUPERSEDED,
            superseded_at=now,
            superseded_by_number=revision.number,
        )
    agreement_on_first_binding_revision(
        agreement=revision.agreement, signed_on=timezone.localdate(now), acting_user=acting_user
    )


def _lock(revision: Revision) -> Revision:
    """Lock the agreement, then the revision, and return the revision as stored.

    Every workflow step that changes revisions (numbering a new draft, approving,
    accepting, superseding) locks the agreement row first, so two steps on one
    agreement run one after the other and never wait on each other's locks in
    opposite orders (which PostgreSQL ends as a deadlock).
    """
    Agreement.objects.select_for_update().filter(pk=revision.agreement_id).exists()
    return Revision.objects.select_for_update().select_related("agreement").get(pk=revision.pk)


@transaction.atomic
def revision_approve(*, revision: Revision, acting_user: ActingUser) -> Revision:
    """Provider manager approves a draft; from now on its content is immutable."""
    if not is_provider_manager(acting_user):
        raise PermissionDenied("Only a provider manager may approve a revision.")
    revision = _lock(revision)
    if revision.status != RevisionStatus.DRAFT:
        raise StateConflict(
            {
                "status": f"Revision {revision.number} is already "
                f"{revision.get_status_display().lower()}."
            }
        )
    revision.full_clean()
    for objective in revision.objectives.all():
        objective.full_clean()
    previous = (
        revision.agreement.revisions.filter(approved_at__isnull=False, number__lt=revision.number)
        .order_by("-number")
        .first()
    )
    if previous is not None and revision.effective_from < previous.effective_from:
        raise ValidationError(
            {
                "effective_from": (
                    f"Revision {previous.number} is effective from {previous.effective_from}; "
                    "a later revision cannot take effect before it."
                )
            }
        )
    _change_status(
        revision,
        acting_user,
        status=RevisionStatus.APPROVED,
        approved_by=acting_user,
        approved_at=timezone.now(),
    )
    if not revision.agreement.requires_acceptance:
        _come_into_force(revision, acting_user)
    return revision


@transaction.atomic
def revision_accept(
    *, revision: Revision, acting_user: ActingUser, from_address: str | None = None
) -> Revision:
    """A manager of the customer party accepts an approved revision; it becomes binding.

    Recorded with who, when and (from a request) the client's address.
    """
    customer_id = Agreement.objects.filter(pk=revision.agreement_id).values_list(
        "customer_id", flat=True
    )[0]
    if customer_id not in party_ids_managed_by(acting_user):
        raise PermissionDenied("Only a manager of the customer may accept a revision.")
    revision = _lock(revision)
    agreement = revision.agreement
    if not agreement.requires_acceptance:
        raise ValidationError({"status": "This agreement does not require customer acceptance."})
    if revision.status != RevisionStatus.APPROVED:
        raise StateConflict(
            {
                "status": f"Revision {revision.number} is "
                f"{revision.get_status_display().lower()}, not awaiting acceptance."
            }
        )
    _change_status(
        revision,
        acting_user,
        status=RevisionStatus.ACCEPTED,
        accepted_by=acting_user,
        accepted_at=timezone.now(),
        accepted_from=from_address,
    )
    _come_into_force(revision, acting_user)
    return revision


@transaction.atomic
def revision_new_draft(
    *, revision: Revision, acting_user: ActingUser, effective_from: date | None = None
) -> Revision:
    """A new draft copying the text, objectives and credit tiers of ``revision``."""
    _require_staff(acting_user)
    if effective_from is None:
        effective_from = max(revision.effective_from, _next_month_start(timezone.localdate()))
    draft = revision_create(
        agreement=revision.agreement,
        acting_user=acting_user,
        effective_from=effective_from,
        summary="",
        credit_cap_percent=revision.credit_cap_percent,
        sections={section.key: section.body for section in revision.sections.all()},
    )
    draft.created_from = revision
    save_as(draft, acting_user, update_fields=["created_from"])
    new_ids: dict[int, Objective] = {}
    for objective in revision.objectives.all():
        old_id = objective.pk
        objective.pk = objective.id = None
        objective.revision = draft
        save_as(objective, acting_user)
        new_ids[old_id] = objective
    for tier in CreditTier.objects.filter(revision=revision):
        tier.pk = tier.id = None
        tier.revision = draft
        tier.objective = new_ids.get(tier.objective_id) if tier.objective_id else None
        save_as(tier, acting_user)
    return draft


@transaction.atomic
def revision_delete_draft(*, revision: Revision, acting_user: ActingUser) -> None:
    _require_staff(acting_user)
    if revision.status != RevisionStatus.DRAFT:
        raise StateConflict({"status": "Only a draft can be deleted."})
    delete_as(revision, acting_user)


# --- terms of a draft: objectives and credit tiers ----------------------------------
# Both freeze with their revision (LockedWithRevision and the database triggers refuse
# a change once it is approved); the model's clean() holds the per-metric rules.


def objective_save(
    *, objective: Objective | None = None, acting_user: ActingUser, **data: Any
) -> Objective:
    """Create or update an objective of a draft revision."""
    _require_staff(acting_user)
    return instance_save(instance=objective or Objective(), acting_user=acting_user, data=data)


def objective_delete(*, objective: Objective, acting_user: ActingUser) -> None:
    _require_staff(acting_user)
    delete_as(objective, acting_user)


def credit_tier_save(
    *, tier: CreditTier | None = None, acting_user: ActingUser, **data: Any
) -> CreditTier:
    """Create or update a credit tier of a draft revision."""
    _require_staff(acting_user)
    return instance_save(instance=tier or CreditTier(), acting_user=acting_user, data=data)


def credit_tier_delete(*, tier: CreditTier, acting_user: ActingUser) -> None:
    _require_staff(acting_user)
    delete_as(tier, acting_user)


@transaction.atomic
def revision_import_openslo(
    *, revision: Revision, text: str, acting_user: ActingUser
) -> tuple[list[Objective], Plan]:
    """Draft objectives on a draft revision from OpenSLO v1 SLOs; all or nothing.

    The mapping is ``apps.revisions.openslo.importing``; what it cannot express, a
    revision that is no draft, or an objective its own rules refuse raises
    ImportRefused naming every problem, and nothing is written.
    """
    _require_staff(acting_user)
    revision = _lock(revision)
    if revision.status != RevisionStatus.DRAFT:
        raise ImportRefused(
            [
                f"Revision {revision.number} of {revision.agreement.reference} is "
                f"{revision.get_status_display().lower()}: objectives go on a draft only "
                "(create a new draft from it first)."
            ]
        )
    plan = openslo_plan(text=text, revision=revision)
    created: list[Objective] = []
    problems: list[str] = []
    for where, terms in plan.objectives:
        try:
            with transaction.atomic():
                created.append(objective_save(acting_user=acting_user, revision=revision, **terms))
        except ValidationError as exc:
            found = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            said = [f"{name}: {' '.join(m)}" if name else " ".join(m) for name, m in found.items()]
            problems.append(f"{where}: {'; '.join(said)}")
    if problems:
        raise ImportRefused(problems)
    return created, plan

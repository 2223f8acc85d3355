"""Writes to credit schedules and service credits: calculation and lifecycle."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.agreements.models import Agreement
from apps.core.history import delete_as, save_as
from apps.core.services import instance_save
from apps.credits.calculation import (
    CreditComputation,
    credit_for_results,
    fee_basis_for,
    format_money,
    format_percent,
    period_first_day,
    settled_amount,
)
from apps.credits.models import (
    TRANSITIONS,
    CreditEvent,
    CreditStatus,
    CreditTier,
    ServiceCredit,
)
from apps.credits.selectors import credit_tiers_by_revision
from apps.metrics.results import ComplianceResult, ResultStatus
from apps.parties.selectors import is_provider_manager, is_provider_staff, party_ids_managed_by
from apps.revisions.models import Revision
from apps.revisions.selectors import revision_in_force


def credit_tier_save(
    *, tier: CreditTier | None = None, acting_user: Any, **data: Any
) -> CreditTier:
    return instance_save(instance=tier or CreditTier(), acting_user=acting_user, data=data)


def credit_tier_delete(*, tier: CreditTier, acting_user: Any) -> None:
    delete_as(tier, acting_user)


# --- service credits: calculation ---------------------------------------------
#
# A credit is calculated from the ComplianceResults of one agreement × period
# (see apps.credits.calculation for the rules) and then moves through
# TRANSITIONS (apps.credits.models) by the hands of the provider's managers and
# the customer's managers. Every step writes a CreditEvent and a history row
# carrying the acting user.

RECALCULATION_PREFIX = "Recalculation"
AGREES_NOTE = f"{RECALCULATION_PREFIX} agrees with the credit's figures again."
NOTE_REQUIRED = {CreditStatus.DISPUTED: "dispute", CreditStatus.VOID: "void"}
VERBS = {"approved": "approve", "issued": "issue", "disputed": "dispute", "resolved": "resolve"}


def _describe_credit(credit: ServiceCredit) -> str:
    return f"{format_percent(credit.percent)} = {format_money(credit.amount, credit.currency)}"


def _event(
    *, credit: ServiceCredit, from_status: str, to_status: str, note: str, acting_user: Any
) -> CreditEvent:
    return CreditEvent.objects.create(
        credit=credit,
        from_status=from_status,
        to_status=to_status,
        note=note,
        amount=credit.amount,
        by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )


def _note(*, credit: ServiceCredit, note: str, acting_user: Any) -> CreditEvent:
    """An event that records a finding without moving the credit."""
    return _event(
        credit=credit,
        from_status=credit.status,
        to_status=credit.status,
        note=note,
        acting_user=acting_user,
    )


def _computed_values(*, revision: Revision, computation: CreditComputation) -> dict[str, Any]:
    return {
        "revision": revision,
        "percent": computation.percent,
        "uncapped_percent": computation.uncapped_percent,
        "cap_percent": computation.cap_percent,
        "fee_basis": computation.fee_basis,
        "amount": computation.amount,
        "currency": computation.currency,
        "objectives": computation.objectives_json(),
    }


def _same_values(credit: ServiceCredit, values: dict[str, Any]) -> bool:
    current = {name: getattr(credit, name) for name in values}
    return current == values


def _credit_create(
    *,
    agreement: Agreement,
    period: str,
    revision: Revision,
    computation: CreditComputation,
    acting_user: Any,
) -> ServiceCredit:
    credit = ServiceCredit(
        agreement=agreement,
        period=period,
        status=CreditStatus.CALCULATED,
        calculated_at=timezone.now(),
        **_computed_values(revision=revision, computation=computation),
    )
    save_as(credit, acting_user)
    _event(
        credit=credit,
        from_status="",
        to_status=CreditStatus.CALCULATED,
        note=f"Calculated: {computation.describe()}.",
        acting_user=acting_user,
    )
    return credit


def _credit_refresh(
    *,
    credit: ServiceCredit,
    revision: Revision,
    computation: CreditComputation,
    acting_user: Any,
) -> ServiceCredit:
    """Bring a still-calculated credit up to date; nothing happens when nothing changed."""
    values = _computed_values(revision=revision, computation=computation)
    if _same_values(credit, values):
        return credit
    before = _describe_credit(credit)
    for name, value in values.items():
        setattr(credit, name, value)
    credit.calculated_at = timezone.now()
    save_as(credit, acting_user)
    note = f"Recalculated: was {before}; now {computation.describe()}."
    _note(credit=credit, note=note, acting_user=acting_user)
    return credit


def _credit_note_recalculation(
    *, credit: ServiceCredit, computation: CreditComputation | None, acting_user: Any
) -> None:
    """A credit past ``calculated`` is never rewritten: a differing recalculation leaves a note.

    The figures compared are the calculated ones (percent, uncapped percent, fee
    basis, currency), not the amount, which a resolution may have changed. The
    same finding is noted once; when a later recalculation agrees with the credit
    again after a differing one, that is noted too.
    """
    status = credit.get_status_display().lower()
    if computation is None or not computation.earns:
        differs = True
        finding = "no credit owed"
    else:
        differs = (
            computation.percent,
            computation.uncapped_percent,
            computation.fee_basis,
            computation.currency,
        ) != (credit.percent, credit.uncapped_percent, credit.fee_basis, credit.currency)
        finding = computation.describe()
    last = (
        credit.events.filter(note__startswith=RECALCULATION_PREFIX)
        .order_by("-at", "-pk")
        .values_list("note", flat=True)
        .first()
    )
    if differs:
        note = (
            f"{RECALCULATION_PREFIX} found {finding}; the credit is {status} at "
            f"{_describe_credit(credit)} and was not changed."
        )
    elif last is not None:
        note = AGREES_NOTE
    else:
        return
    if note != last:
        _note(credit=credit, note=note, acting_user=acting_user)


@transaction.atomic
def credit_calculate(
    *, agreement: Agreement, period: str, acting_user: Any = None
) -> ServiceCredit | None:
    """Calculate (or recalculate) the credit of ``agreement`` for ``period`` from its results.

    - No result earns credit: no credit. A credit still ``calculated`` (which no
      one has acted on yet) is deleted; django-simple-history keeps the deleted
      row with the acting user and time. It is deleted rather than voided
      because void is final: a voided row would block the (agreement, period)
      slot, so a later correction of the data could never bring the credit back.
    - A credit is owed: created, or updated while still ``calculated`` (with an
      event saying what changed).
    - A credit already approved, issued, disputed, resolved or void is never
      changed: a differing recalculation is recorded as a CreditEvent note.
    - Idempotent: a second call with the same results writes nothing.

    The cap comes from the agreement's revision in force on the first day of the
    period. ``acting_user`` is None for scheduled jobs, otherwise provider staff.
    """
    if acting_user is not None and not is_provider_staff(acting_user):
        raise PermissionDenied("Only provider staff may calculate credits.")
    try:
        first_day = period_first_day(period)
    except ValueError as exc:
        raise ValidationError({"period": str(exc)}) from None
    # Lock the agreement: two calculations of one agreement run one after the other.
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    existing = (
        ServiceCredit.objects.select_for_update().filter(agreement=agreement, period=period).first()
    )
    results = list(ComplianceResult.objects.filter(agreement=agreement, period=period))
    missed = [result for result in results if result.status == ResultStatus.MISSED]
    revision = revision_in_force(agreement, first_day)
    computation = None
    if revision is None and missed:
        raise ValidationError(
            {"period": f"{agreement.reference} has no binding revision in force on {first_day}."}
        )
    if revision is not None:
        computation = credit_for_results(
            results=results,
            tiers_by_revision=credit_tiers_by_revision(result.revision_id for result in missed),
            cap_percent=revision.credit_cap_percent,
            fee_basis=fee_basis_for(monthly_fee=agreement.monthly_fee, period=period),
            currency=agreement.currency,
        )
    owed = computation is not None and computation.earns
    if existing is None:
        if not owed:
            return None
        return _credit_create(
            agreement=agreement,
            period=period,
            revision=revision,
            computation=computation,
            acting_user=acting_user,
        )
    if existing.status == CreditStatus.CALCULATED:
        if not owed:
            delete_as(existing, acting_user)
            return None
        return _credit_refresh(
            credit=existing, revision=revision, computation=computation, acting_user=acting_user
        )
    _credit_note_recalculation(credit=existing, computation=computation, acting_user=acting_user)
    return existing


# --- service credits: lifecycle -----------------------------------------------


def _roles(user: Any, agreement: Agreement) -> set[str]:
    """The TRANSITIONS roles ``user`` holds for ``agreement``: "provider", "customer"."""
    roles: set[str] = set()
    if is_provider_manager(user):
        roles.add("provider")
    if agreement.customer_id in party_ids_managed_by(user):
        roles.add("customer")
    return roles


def _who(roles: set[str]) -> str:
    names = {"provider": "a provider manager", "customer": "a manager of the customer"}
    return " or ".join(names[role] for role in sorted(roles))


def _apply_resolution(
    *, credit: ServiceCredit, resolution: str, amount: Decimal | None, note: str
) -> str:
    """Set the resolution (required) and any new amount; return the event's note.

    The amount may go from 0 up to the contractual cap of the period, not only
    down: a dispute the customer wins can raise the credit above the
    calculation, but never above ``fee_basis × cap_percent / 100``.
    """
    resolution = resolution.strip()
    if not resolution:
        raise ValidationError({"resolution": "Describe how the dispute was resolved."})
    credit.resolution = resolution
    note = "\n".join(part for part in (resolution, note) if part)
    if amount is not None:
        try:
            new_amount = settled_amount(
                amount=amount,
                fee_basis=credit.fee_basis,
                cap_percent=credit.cap_percent,
                currency=credit.currency,
            )
        except ValueError as exc:
            raise ValidationError({"amount": str(exc)}) from None
        if new_amount != credit.amount:
            before, after = (
                format_money(value, credit.currency) for value in (credit.amount, new_amount)
            )
            note += f"\nAmount changed from {before} to {after}."
            credit.amount = new_amount
    return note


@transaction.atomic
def credit_transition(
    *,
    credit: ServiceCredit,
    to_status: str,
    acting_user: Any,
    note: str = "",
    resolution: str = "",
    amount: Decimal | None = None,
) -> ServiceCredit:
    """Move a credit along TRANSITIONS; the only way a credit's status changes.

    Checks, in order: the user may ever make this move (else PermissionDenied),
    the move is allowed from the current status (else ValidationError naming
    the status and the allowed moves), the user's role for this move, and the
    required texts (a note to dispute or void, a resolution to resolve). Writes
    a CreditEvent (who, from, to, note, amount) and a history row with the user.
    Issuing makes the agreement's results of the period final.
    """
    credit = ServiceCredit.objects.select_for_update().select_related("agreement").get(pk=credit.pk)
    if to_status not in CreditStatus.values:
        raise ValidationError({"status": f"'{to_status}' is not a credit status."})
    roles = _roles(acting_user, credit.agreement)
    action = VERBS.get(to_status, to_status)
    ever = set().union(*(moves.get(to_status, set()) for moves in TRANSITIONS.values()))
    if not roles & ever:
        raise PermissionDenied(f"Only {_who(ever)} may {action} a credit.")
    allowed = TRANSITIONS[credit.status]
    if to_status not in allowed:
        moves = ", ".join(sorted(allowed)) or "none (it is final)"
        raise ValidationError(
            {
                "status": f"The credit is {credit.status}; it cannot be moved to {to_status}. "
                f"Allowed moves from {credit.status}: {moves}."
            }
        )
    if not roles & allowed[to_status]:
        raise PermissionDenied(
            f"From {credit.status}, only {_who(allowed[to_status])} may {action} a credit."
        )
    note = note.strip()
    if to_status in NOTE_REQUIRED and not note:
        raise ValidationError({"note": f"Say why you {NOTE_REQUIRED[to_status]} the credit."})
    from_status = credit.status
    changed = ["status"]
    if to_status == CreditStatus.RESOLVED:
        note = _apply_resolution(credit=credit, resolution=resolution, amount=amount, note=note)
        changed += ["resolution", "amount"]
    elif resolution or amount is not None:
        raise ValidationError({"resolution": "A resolution and an amount belong to resolve only."})
    credit.status = to_status
    save_as(credit, acting_user, update_fields=changed)
    _event(
        credit=credit,
        from_status=from_status,
        to_status=to_status,
        note=note,
        acting_user=acting_user,
    )
    if to_status == CreditStatus.ISSUED:
        ComplianceResult.objects.filter(
            agreement_id=credit.agreement_id, period=credit.period
        ).update(final=True)
    return credit


def credit_approve(*, credit: ServiceCredit, acting_user: Any, note: str = "") -> ServiceCredit:
    """A provider manager approves a calculated credit."""
    return credit_transition(
        credit=credit, to_status=CreditStatus.APPROVED, acting_user=acting_user, note=note
    )


def credit_issue(*, credit: ServiceCredit, acting_user: Any, note: str = "") -> ServiceCredit:
    """A provider manager issues an approved or resolved credit; the period's results turn final."""
    return credit_transition(
        credit=credit, to_status=CreditStatus.ISSUED, acting_user=acting_user, note=note
    )


def credit_dispute(*, credit: ServiceCredit, acting_user: Any, note: str) -> ServiceCredit:
    """A manager of the customer disputes a calculated or approved credit, saying why."""
    return credit_transition(
        credit=credit, to_status=CreditStatus.DISPUTED, acting_user=acting_user, note=note
    )


def credit_resolve(
    *,
    credit: ServiceCredit,
    acting_user: Any,
    resolution: str,
    amount: Decimal | None = None,
    note: str = "",
) -> ServiceCredit:
    """A provider manager resolves a dispute, optionally with a new amount (0 … the cap).

    ``percent`` and ``uncapped_percent`` keep the calculated figures; ``amount``
    is what was agreed. The event's note carries the resolution and any change
    of amount.
    """
    return credit_transition(
        credit=credit,
        to_status=CreditStatus.RESOLVED,
        acting_user=acting_user,
        note=note,
        resolution=resolution,
        amount=amount,
    )


def credit_void(*, credit: ServiceCredit, acting_user: Any, note: str) -> ServiceCredit:
    """A provider manager voids a credit that is not issued, saying why."""
    return credit_transition(
        credit=credit, to_status=CreditStatus.VOID, acting_user=acting_user, note=note
    )

"""Writes to service credits, part 2: the moves of a credit after it is calculated.

TRANSITIONS (apps.credits.models) says who may move a credit from where to where;
``credit_transition`` is the only way a credit's status changes. Every step
writes a CreditEvent and a history row carrying the acting user.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.agreements.models import Agreement
from apps.compliance.models import ComplianceResult
from apps.core.access import ActingUser
from apps.core.errors import StateConflict
from apps.core.history import save_as
from apps.core.money import format_money
from apps.credits.calculation import settled_amount
from apps.credits.models import TRANSITIONS, CreditStatus, ServiceCredit
from apps.credits.services import credit_event
from apps.parties.selectors import is_provider_manager, party_ids_managed_by

NOTE_REQUIRED: dict[str, str] = {CreditStatus.DISPUTED: "dispute", CreditStatus.VOID: "void"}
VERBS: dict[str, str] = {
    CreditStatus.APPROVED: "approve",
    CreditStatus.ISSUED: "issue",
    CreditStatus.DISPUTED: "dispute",
    CreditStatus.RESOLVED: "resolve",
}


def _roles(user: ActingUser, agreement: Agreement) -> set[str]:
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
    acting_user: ActingUser,
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
        raise StateConflict(
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
    credit_event(
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


def credit_approve(
    *, credit: ServiceCredit, acting_user: ActingUser, note: str = ""
) -> ServiceCredit:
    """A provider manager approves a calculated credit."""
    return credit_transition(
        credit=credit, to_status=CreditStatus.APPROVED, acting_user=acting_user, note=note
    )


def credit_issue(
    *, credit: ServiceCredit, acting_user: ActingUser, note: str = ""
) -> ServiceCredit:
    """A provider manager issues an approved or resolved credit; the period's results turn final."""
    return credit_transition(
        credit=credit, to_status=CreditStatus.ISSUED, acting_user=acting_user, note=note
    )


def credit_dispute(*, credit: ServiceCredit, acting_user: ActingUser, note: str) -> ServiceCredit:
    """A manager of the customer disputes a calculated or approved credit, saying why."""
    return credit_transition(
        credit=credit, to_status=CreditStatus.DISPUTED, acting_user=acting_user, note=note
    )


def credit_resolve(
    *,
    credit: ServiceCredit,
    acting_user: ActingUser,
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


def credit_void(*, credit: ServiceCredit, acting_user: ActingUser, note: str) -> ServiceCredit:
    """A provider manager voids a credit that is not issued, saying why."""
    return credit_transition(
        credit=credit, to_status=CreditStatus.VOID, acting_user=acting_user, note=note
    )

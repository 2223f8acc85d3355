"""Writes to service credits, part 1: calculating a credit from a period's results.

The rules are in ``apps.credits.calculation`` (free of the database); the moves of
a credit after it is calculated are in ``apps.credits.transitions``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.agreements.models import Agreement
from apps.calendars.periods import Period
from apps.compliance.models import ComplianceResult, ResultStatus
from apps.core.access import ActingUser, is_provider_staff, signed_in
from apps.core.history import delete_as, save_as
from apps.core.money import format_money, format_percent
from apps.credits.calculation import CreditComputation, credit_for_results, fee_basis_for
from apps.credits.models import CreditEvent, CreditStatus, ServiceCredit
from apps.revisions.models import Revision
from apps.revisions.selectors import credit_tiers_by_revision, revision_in_force

#
# A credit is calculated from the ComplianceResults of one agreement × period
# (see apps.credits.calculation for the rules) and then moves through
# TRANSITIONS (apps.credits.models) by the hands of the provider's managers and
# the customer's managers. Every step writes a CreditEvent and a history row
# carrying the acting user.

RECALCULATION_PREFIX = "Recalculation"
AGREES_NOTE = f"{RECALCULATION_PREFIX} agrees with the credit's figures again."


def describe_credit(credit: ServiceCredit) -> str:
    return f"{format_percent(credit.percent)} = {format_money(credit.amount, credit.currency)}"


def credit_event(
    *, credit: ServiceCredit, from_status: str, to_status: str, note: str, acting_user: ActingUser
) -> CreditEvent:
    return CreditEvent.objects.create(
        credit=credit,
        from_status=from_status,
        to_status=to_status,
        note=note,
        amount=credit.amount,
        by=signed_in(acting_user),
    )


def _note(*, credit: ServiceCredit, note: str, acting_user: ActingUser) -> CreditEvent:
    """An event that records a finding without moving the credit."""
    return credit_event(
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
    acting_user: ActingUser,
) -> ServiceCredit:
    credit = ServiceCredit(
        agreement=agreement,
        period=period,
        status=CreditStatus.CALCULATED,
        calculated_at=timezone.now(),
        **_computed_values(revision=revision, computation=computation),
    )
    save_as(credit, acting_user)
    credit_event(
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
    acting_user: ActingUser,
) -> ServiceCredit:
    """Bring a still-calculated credit up to date; nothing happens when nothing changed."""
    values = _computed_values(revision=revision, computation=computation)
    if _same_values(credit, values):
        return credit
    before = describe_credit(credit)
    for name, value in values.items():
        setattr(credit, name, value)
    credit.calculated_at = timezone.now()
    save_as(credit, acting_user)
    note = f"Recalculated: was {before}; now {computation.describe()}."
    _note(credit=credit, note=note, acting_user=acting_user)
    return credit


def _credit_note_recalculation(
    *, credit: ServiceCredit, computation: CreditComputation | None, acting_user: ActingUser
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
            f"{describe_credit(credit)} and was not changed."
        )
    elif last is not None:
        note = AGREES_NOTE
    else:
        return
    if note != last:
        _note(credit=credit, note=note, acting_user=acting_user)


@transaction.atomic
def credit_calculate(
    *, agreement: Agreement, period: Period, acting_user: ActingUser = None
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
    first_day = period.first_day
    # Lock the agreement: two calculations of one agreement run one after the other.
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    existing = (
        ServiceCredit.objects.select_for_update()
        .filter(agreement=agreement, period=period.label)
        .first()
    )
    results = list(ComplianceResult.objects.filter(agreement=agreement, period=period.label))
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
        assert revision is not None and computation is not None  # owed
        return _credit_create(
            agreement=agreement,
            period=period.label,
            revision=revision,
            computation=computation,
            acting_user=acting_user,
        )
    if existing.status == CreditStatus.CALCULATED:
        if not owed:
            delete_as(existing, acting_user)
            return None
        assert revision is not None and computation is not None  # owed
        return _credit_refresh(
            credit=existing, revision=revision, computation=computation, acting_user=acting_user
        )
    _credit_note_recalculation(credit=existing, computation=computation, acting_user=acting_user)
    return existing

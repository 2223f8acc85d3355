"""Writes to services and agreements."""

from __future__ import annotations

from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.agreements.models import Agreement, AgreementStatus, Service
from apps.core.access import ActingUser, is_provider_staff
from apps.core.history import save_as
from apps.core.services import instance_save


def service_save(
    *, service: Service | None = None, acting_user: ActingUser, **data: Any
) -> Service:
    return instance_save(instance=service or Service(), acting_user=acting_user, data=data)


def agreement_save(
    *, agreement: Agreement | None = None, acting_user: ActingUser, **data: Any
) -> Agreement:
    """Create or update an agreement; tier/parent/party rules live in Agreement.clean."""
    return instance_save(instance=agreement or Agreement(), acting_user=acting_user, data=data)


@transaction.atomic
def agreement_mark_reviewed(
    *, agreement: Agreement, reviewed_on: date, acting_user: ActingUser
) -> Agreement:
    """Record a review (provider staff) and schedule the next one after the review cadence."""
    if not is_provider_staff(acting_user):
        raise PermissionDenied("Only provider staff may record a review.")
    if reviewed_on > timezone.localdate():
        raise ValidationError({"reviewed_on": "A review cannot be recorded in the future."})
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    agreement.last_reviewed_on = reviewed_on
    agreement.next_review_on = reviewed_on + relativedelta(months=agreement.review_every_months)
    return save_as(agreement, acting_user)


def agreement_on_first_binding_revision(
    *, agreement: Agreement, signed_on: date, acting_user: ActingUser
) -> None:
    """The first binding revision signs the agreement and makes a draft agreement active."""
    changed = False
    if agreement.signed_on is None:
        agreement.signed_on = signed_on
        agreement.next_review_on = agreement.default_next_review()
        changed = True
    if agreement.status == AgreementStatus.DRAFT:
        agreement.status = AgreementStatus.ACTIVE
        changed = True
    if changed:
        save_as(agreement, acting_user)

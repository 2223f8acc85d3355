"""Writes to services and agreements."""

from __future__ import annotations

from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction

from apps.agreements.models import Agreement, AgreementStatus, Service
from apps.core.history import save_as
from apps.core.services import instance_save


def service_save(*, service: Service | None = None, acting_user: Any, **data: Any) -> Service:
    return instance_save(instance=service or Service(), acting_user=acting_user, data=data)


def agreement_save(
    *, agreement: Agreement | None = None, acting_user: Any, **data: Any
) -> Agreement:
    """Create or update an agreement; tier/parent/party rules live in Agreement.clean."""
    return instance_save(instance=agreement or Agreement(), acting_user=acting_user, data=data)


@transaction.atomic
def agreement_mark_reviewed(
    *, agreement: Agreement, reviewed_on: date, acting_user: Any
) -> Agreement:
    """Record a review and schedule the next one after the review cadence."""
    agreement.next_review_on = reviewed_on + relativedelta(months=agreement.review_every_months)
    return save_as(agreement, acting_user)


def agreement_on_first_binding_revision(
    *, agreement: Agreement, signed_on: date, acting_user: Any
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

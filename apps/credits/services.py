"""Writes to credit schedules (service credits themselves arrive with the engine)."""

from __future__ import annotations

from typing import Any

from apps.core.history import delete_as
from apps.core.services import instance_save
from apps.credits.models import CreditTier


def credit_tier_save(
    *, tier: CreditTier | None = None, acting_user: Any, **data: Any
) -> CreditTier:
    return instance_save(instance=tier or CreditTier(), acting_user=acting_user, data=data)


def credit_tier_delete(*, tier: CreditTier, acting_user: Any) -> None:
    delete_as(tier, acting_user)

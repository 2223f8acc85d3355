"""Exclusions: a provider manager leaves a ticket or outage out of compliance, with a reason.

Every decision (and every reinstatement) is an ExclusionEvent the customer can read:
who, when, why. Re-evaluating a closed period afterwards records an adjustment.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.access import User, signed_in
from apps.measurements.models import ExclusionEvent, Outage, Ticket
from apps.parties.selectors import is_provider_manager

Excludable = Ticket | Outage


def _exclusion_set(
    *, measurement: Excludable, excluded: bool, reason: str, acting_user: User
) -> ExclusionEvent:
    if not is_provider_manager(acting_user):
        raise PermissionDenied("Only a provider manager may exclude or reinstate measurements.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason; the customer sees it."})
    by = signed_in(acting_user)
    assert by is not None  # a provider manager is signed in
    with transaction.atomic():
        locked = type(measurement).objects.select_for_update().get(pk=measurement.pk)
        if locked.excluded == excluded:
            state = "excluded" if excluded else "counted (not excluded)"
            raise ValidationError(f"This {locked._meta.verbose_name} is already {state}.")
        locked.excluded = excluded
        locked.exclusion_reason = reason if excluded else ""
        locked.excluded_by = by if excluded else None
        locked.excluded_at = timezone.now() if excluded else None
        locked.save(update_fields=["excluded", "exclusion_reason", "excluded_by", "excluded_at"])
        target = {"ticket" if isinstance(locked, Ticket) else "outage": locked}
        event = ExclusionEvent.objects.create(excluded=excluded, reason=reason, by=by, **target)
    for name in ("excluded", "exclusion_reason", "excluded_by", "excluded_at"):
        setattr(measurement, name, getattr(locked, name))
    return event


def measurement_exclude(
    *, measurement: Excludable, reason: str, acting_user: User
) -> ExclusionEvent:
    """Leave a ticket or outage out of compliance, recording who, when and why."""
    return _exclusion_set(
        measurement=measurement, excluded=True, reason=reason, acting_user=acting_user
    )


def measurement_reinstate(
    *, measurement: Excludable, reason: str, acting_user: User
) -> ExclusionEvent:
    """Count an excluded ticket or outage again, recording who, when and why."""
    return _exclusion_set(
        measurement=measurement, excluded=False, reason=reason, acting_user=acting_user
    )

"""Who did it: the acting user for django-simple-history outside a request.

In a request, HistoryRequestMiddleware records request.user (DRF sets it on
the underlying request once it has authenticated a token). Services also take
``acting_user`` and stamp it on the instance before saving, so rows written by
Celery tasks, commands and tests carry the right person too.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model

from apps.core.access import ActingUser, signed_in

M = TypeVar("M", bound=Model)


def _stamp(instance: Model, acting_user: ActingUser) -> None:
    user = signed_in(acting_user)
    if user is not None:
        # read by simple_history's pre_create hook
        setattr(instance, "_history_user", user)  # noqa: B010


def save_as(instance: M, acting_user: ActingUser, **save_kwargs: Any) -> M:
    """Save ``instance`` recording ``acting_user`` in its history row."""
    _stamp(instance, acting_user)
    instance.save(**save_kwargs)
    return instance


def delete_as(instance: Model, acting_user: ActingUser) -> None:
    """Delete ``instance`` recording ``acting_user`` in its history row."""
    _stamp(instance, acting_user)
    instance.delete()

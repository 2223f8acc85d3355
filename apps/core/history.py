"""Who did it: the acting user for django-simple-history outside a request.

In a request, HistoryRequestMiddleware records request.user (DRF sets it on
the underlying request once it has authenticated a token). Services also take
``acting_user`` and stamp it on the instance before saving, so rows written by
Celery tasks, commands and tests carry the right person too.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model


def save_as(instance: Model, acting_user: Any, **save_kwargs: Any) -> Model:
    """Save ``instance`` recording ``acting_user`` in its history row."""
    if acting_user is not None and getattr(acting_user, "is_authenticated", False):
        instance._history_user = acting_user  # read by simple_history's pre_create hook
    instance.save(**save_kwargs)
    return instance


def delete_as(instance: Model, acting_user: Any) -> None:
    if acting_user is not None and getattr(acting_user, "is_authenticated", False):
        instance._history_user = acting_user
    instance.delete()

"""Write helpers shared by every app's services."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models, transaction

from apps.core.history import save_as

M = TypeVar("M", bound=models.Model)


def instance_apply(instance: M, data: dict[str, Any]) -> dict[str, Any]:
    """Set plain fields from ``data`` on ``instance``; return the many-to-many values."""
    many: dict[str, Any] = {}
    m2m_names = {field.name for field in instance._meta.many_to_many}
    for name, value in data.items():
        if name in m2m_names:
            many[name] = value
        else:
            setattr(instance, name, value)
    return many


@transaction.atomic
def instance_save(*, instance: M, acting_user: Any, data: dict[str, Any] | None = None) -> M:
    """Validate (``full_clean``: field rules and the model's own invariants) and save.

    Raises django's ValidationError with field messages; nothing is written then.
    """
    many = instance_apply(instance, data or {})
    instance.full_clean()
    save_as(instance, acting_user)
    for name, values in many.items():
        getattr(instance, name).set(values)
    return instance

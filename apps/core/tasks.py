"""Diagnostic tasks: prove where a task runs (used by health checks and tests)."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from apps.core.tenancy import current_schema


@shared_task(name="core.whereami")
def whereami() -> dict[str, object]:
    """Report the schema this task ran in and the users that schema holds.

    A tenant task (the default class): sent without a tenant it raises
    PublicSchemaError instead of reading the public schema.
    """
    usernames = sorted(get_user_model().objects.values_list("username", flat=True))
    return {"schema": current_schema(), "usernames": usernames}

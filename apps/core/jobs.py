"""Task base classes: every task runs in the tenant schema it was sent from.

tenant-schemas-celery stamps the current schema into every message and
switches the worker's connection to it before the task runs. ``TenantTask``
(the app's default task class, see config/celery.py) adds the rule the library
does not enforce: a tenant task that arrives without a tenant (sent from the
public schema) raises instead of silently reading and writing the public
schema. Platform-wide jobs (the beat fan-out that enqueues one task per
tenant) opt out with ``base=PlatformTask``.
"""

from __future__ import annotations

from typing import Any

from django_tenants.utils import get_public_schema_name
from tenant_schemas_celery.task import TenantTask as LibraryTenantTask

from apps.core.tenancy import current_schema


class PublicSchemaError(RuntimeError):
    """A tenant task was about to run in the public schema."""


class TenantTask(LibraryTenantTask):
    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if current_schema() == get_public_schema_name():
            raise PublicSchemaError(
                f"Task {self.name} needs a tenant but was sent from the public schema; "
                "send it inside schema_context()/tenant_context()."
            )
        return super().__call__(*args, **kwargs)


class PlatformTask(LibraryTenantTask):
    """A task that deliberately runs in the public schema (e.g. a fan-out)."""

    abstract = True

"""The Celery app. Tasks run in the tenant schema they were sent from.

tenant-schemas-celery stamps the current schema into every message and
switches the worker's connection to it before the task runs. Our default
task class adds the rule the library does not enforce: a tenant task that
arrives without a tenant (sent from the public schema) raises instead of
silently reading and writing the public schema. Platform-wide jobs (the beat
fan-out that enqueues one task per tenant) opt out with ``base=PlatformTask``.
"""

from __future__ import annotations

import os

from django.db import connection
from tenant_schemas_celery.app import CeleryApp
from tenant_schemas_celery.task import TenantTask as LibraryTenantTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


class PublicSchemaError(RuntimeError):
    """A tenant task was about to run in the public schema."""


class TenantTask(LibraryTenantTask):
    abstract = True

    def __call__(self, *args, **kwargs):
        from django_tenants.utils import get_public_schema_name

        if connection.schema_name == get_public_schema_name():
            raise PublicSchemaError(
                f"Task {self.name} needs a tenant but was sent from the public schema; "
                "send it inside schema_context()/tenant_context()."
            )
        return super().__call__(*args, **kwargs)


class PlatformTask(LibraryTenantTask):
    """A task that deliberately runs in the public schema (e.g. a fan-out)."""

    abstract = True


class App(CeleryApp):
    task_cls = "config.celery:TenantTask"


app = App("sla_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

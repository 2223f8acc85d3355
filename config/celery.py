"""The Celery app: Redis broker, tasks that run in the tenant schema they were sent from.

The task classes (the schema switch, the rule that a tenant task never runs in the
public schema, the retry of transient failures) and beat's scheduler are in
apps.core.jobs; why: docs/decisions/0006-jobs-never-lose-work.md.
"""

from __future__ import annotations

import os

from celery.signals import task_postrun, task_prerun
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# tenant-schemas-celery switches schema in these signal handlers, where Celery logs and
# swallows an exception: with PostgreSQL down the task ran on in the public schema.
# apps.core.jobs.TenantTask switches inside the task call instead.
task_prerun.disconnect(sender=None, dispatch_uid="tenant_schemas_switch_schema")
task_postrun.disconnect(sender=None, dispatch_uid="tenant_schemas_restore_schema")


class App(CeleryApp):
    task_cls = "apps.core.jobs:TenantTask"


app = App("sla_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""The Celery app: Redis broker, tasks that run in the tenant schema they were sent from.

The task classes (and the rule that a tenant task never runs in the public
schema) are in apps.core.jobs.
"""

from __future__ import annotations

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


class App(CeleryApp):
    task_cls = "apps.core.jobs:TenantTask"


app = App("sla_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

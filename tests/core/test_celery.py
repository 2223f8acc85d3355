"""Tasks run on a real Celery worker (Redis broker) in the schema they were sent from."""

from __future__ import annotations

import pytest
from celery.exceptions import TimeoutError as CeleryTimeout
from django_tenants.utils import schema_context

from apps.core.jobs import PublicSchemaError
from apps.core.tasks import whereami

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def test_task_sent_inside_a_tenant_runs_in_that_tenants_schema(celery_worker_process):
    with schema_context("alpha"):
        result_a = whereami.delay()
    with schema_context("beta"):
        result_b = whereami.delay()

    ran_a = result_a.get(timeout=30)
    ran_b = result_b.get(timeout=30)

    assert ran_a["schema"] == "alpha"
    assert "admin_alpha" in ran_a["usernames"] and "admin_beta" not in ran_a["usernames"]
    assert ran_b["schema"] == "beta"
    assert "admin_beta" in ran_b["usernames"] and "admin_alpha" not in ran_b["usernames"]


def test_tenant_task_without_a_tenant_fails_loudly(celery_worker_process):
    result = whereami.delay()  # sent from the public schema

    with pytest.raises(PublicSchemaError, match="needs a tenant"):
        try:
            result.get(timeout=30)
        except CeleryTimeout:  # pragma: no cover - would mean the worker never answered
            pytest.fail("worker did not answer")
    assert result.state == "FAILURE"

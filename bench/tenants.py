"""Tenant creation: cloning the template schema vs. migrating a fresh schema."""

from __future__ import annotations

import statistics
import time

from django.db import connection
from django.test import override_settings

from apps.tenants.models import Tenant
from apps.tenants.services import public_tenant_ensure, template_tenant_ensure, tenant_create

ROUNDS_CLONE = 7
ROUNDS_MIGRATE = 3


def _drop(slug: str) -> None:
    Tenant.objects.filter(schema_name=slug).delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE')


def _create(slug: str) -> float:
    started = time.perf_counter()
    tenant_create(slug=slug, name=slug, admin_username="admin", admin_password="pw")
    elapsed = time.perf_counter() - started
    _drop(slug)
    return elapsed


def _noop_migrate(tenants: int) -> float:
    from django.core.management import call_command

    for index in range(tenants):
        tenant_create(slug=f"noop{index}", name=f"noop{index}")
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    elapsed = time.perf_counter() - started
    for index in range(tenants):
        _drop(f"noop{index}")
    return elapsed


def run() -> str:
    public_tenant_ensure()
    template_tenant_ensure()
    _create("warmup")
    clone = [_create(f"clone{i}") for i in range(ROUNDS_CLONE)]
    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
        migrate = [_create(f"migr{i}") for i in range(ROUNDS_MIGRATE)]
    clone_median, migrate_median = statistics.median(clone), statistics.median(migrate)
    noop_tenants = 20
    noop = _noop_migrate(noop_tenants)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", ["tenant_template"])
        tables = cursor.fetchone()[0]
    return (
        "## Tenant creation\n\n"
        f"`tenant_create` with an admin user, {tables} tables per tenant schema; median of "
        f"{ROUNDS_CLONE} clones and {ROUNDS_MIGRATE} migrations in the same run.\n\n"
        "| method | median | min | max |\n|---|---|---|---|\n"
        f"| clone template schema + fake migrations (default) | {clone_median:.2f} s | "
        f"{min(clone):.2f} s | {max(clone):.2f} s |\n"
        f"| migrate a fresh schema | {migrate_median:.2f} s | {min(migrate):.2f} s | "
        f"{max(migrate):.2f} s |\n\n"
        f"Clone / migrate ratio: **{clone_median / migrate_median:.2f}x** "
        f"(goal <= 0.2x and <= 2 s).\n\n"
        f"No-op `migrate` with {noop_tenants + 3} tenant schemas (public, template, "
        f"{noop_tenants} tenants): {noop:.2f} s in all."
    )

"""Running a clone: plans cached per template state, one statement string per clone."""

from __future__ import annotations

import threading

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import post_migrate, pre_migrate
from django_tenants.migration_executors.base import run_migrations
from django_tenants.signals import schema_migrate_message, schema_migrated, schema_pre_migration

from apps.tenants.clone.catalog import FINGERPRINT_SQL, UnsupportedTemplate, qi, ql
from apps.tenants.clone.plan import ClonePlan, generate_plan
from apps.tenants.schemas import schemas_behind

# pre_migrate/post_migrate receivers that a fake migrate of a clone of an
# up-to-date template may skip: it applies no operation, and the content types
# and permissions they would create are among the copied rows already.
NOOP_ON_CLONE = frozenset(
    {
        "django.contrib.contenttypes.management.inject_rename_contenttypes_operations",
        "django.contrib.contenttypes.management.create_contenttypes",
        "django.contrib.auth.management.create_permissions",
    }
)

# (host, port, database, template) -> ((namespace oid, catalog fingerprint), plan)
_plans: dict[tuple, tuple[tuple, ClonePlan]] = {}
_plans_lock = threading.Lock()


def _plan(cursor, using: str, base: str) -> tuple[ClonePlan, str, str]:
    """The plan for the template's current state, and the settings to restore afterwards."""
    cursor.execute(FINGERPRINT_SQL, [base])
    row = cursor.fetchone()
    if row is None:
        raise UnsupportedTemplate(f"template schema {base} does not exist")
    ns, search_path, check_bodies, fingerprint = row
    settings = connections[using].settings_dict
    key = (settings.get("HOST"), settings.get("PORT"), settings.get("NAME"), base)
    with _plans_lock:
        cached = _plans.get(key)
    if cached is not None and cached[0] == (ns, fingerprint):
        return cached[1], search_path, check_bodies
    # A savepoint: a refused template (or any error) rolls back to it, search_path included,
    # and leaves the caller's transaction usable.
    with transaction.atomic(using=using):
        cursor.execute("SELECT set_config('search_path', quote_ident(%s), true)", [base])
        plan = generate_plan(cursor, base, ns)
        cursor.execute("SELECT set_config('search_path', %s, true)", [search_path])
    with _plans_lock:
        _plans[key] = ((ns, fingerprint), plan)
    return plan, search_path, check_bodies


def clone_sql(base: str, new: str, *, data: bool = True, using: str = DEFAULT_DB_ALIAS) -> str:
    """The statements that create schema ``new`` as a copy of ``base`` (for review/tests)."""
    with connections[using].cursor() as cursor:
        plan, search_path, check_bodies = _plan(cursor, using, base)
    return _script(plan, new, data, search_path, check_bodies)


def _script(plan: ClonePlan, new: str, data: bool, search_path: str, check_bodies: str) -> str:
    return "".join(
        [
            f"CREATE SCHEMA {qi(new)};\n",
            f"SET LOCAL search_path = {qi(new)};\n",
            "SET LOCAL check_function_bodies = off;\n",
            plan.structure,
            plan.data if data else "",
            plan.sequences if data else "",
            plan.finish,
            f"SELECT set_config('search_path', {ql(search_path)}, true), "
            f"set_config('check_function_bodies', {ql(check_bodies)}, true);\n",
        ]
    )


def clone_schema(base: str, new: str, *, data: bool = True, using: str = DEFAULT_DB_ALIAS) -> int:
    """Create schema ``new`` as an exact copy of ``base``; returns the number of tables.

    With ``data`` the rows and sequence positions are copied too. Runs inside
    the caller's transaction if there is one and commits nothing.
    """
    with connections[using].cursor() as cursor:
        plan, search_path, check_bodies = _plan(cursor, using, base)
        cursor.execute(_script(plan, new, data, search_path, check_bodies))
    return plan.tables


def fake_migrate_needed(schema_name: str) -> bool:
    """Whether django-tenants' ``migrate_schemas --fake`` after a clone would do anything.

    It records the migrations the clone lacks and sends the migrate signals.
    With data copied from an up-to-date template it records nothing, so it only
    matters if someone listens to those signals beyond NOOP_ON_CLONE.
    """
    if schemas_behind([schema_name]):
        return True
    for signal in (schema_pre_migration, schema_migrate_message, schema_migrated):
        if signal.has_listeners(run_migrations):
            return True
    for signal in (pre_migrate, post_migrate):
        for app_config in apps.get_app_configs():
            sync_receivers, async_receivers = signal._live_receivers(app_config)
            for receiver in (*sync_receivers, *async_receivers):
                name = f"{receiver.__module__}.{receiver.__qualname__}"
                if name not in NOOP_ON_CLONE:
                    return True
    return False

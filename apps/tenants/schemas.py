"""Which tenant schemas lag behind the migrations on disk (one query per 500 schemas)."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.loader import MigrationLoader

BATCH = 500


def schemas_behind(schema_names: list[str]) -> list[str]:
    """The schemas whose django_migrations lack any migration known on disk."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    expected = sorted(f"{app}.{name}" for app, name in loader.disk_migrations)
    behind: list[str] = []
    with connection.cursor() as cursor:
        for start in range(0, len(schema_names), BATCH):
            batch = schema_names[start : start + BATCH]
            cursor.execute(
                "SELECT nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
                "WHERE c.relname = 'django_migrations' AND nspname = ANY(%s)",
                [batch],
            )
            with_table = {row[0] for row in cursor.fetchall()}
            behind.extend(name for name in batch if name not in with_table)
            present = [name for name in batch if name in with_table]
            if not present:
                continue
            union = " UNION ALL ".join(
                f"SELECT %s, count(*) FROM {connection.ops.quote_name(name)}.django_migrations "
                "WHERE app || '.' || name = ANY(%s)"
                for name in present
            )
            params: list[str | list[str]] = []
            for name in present:
                params.extend([name, expected])
            cursor.execute(union, params)
            behind.extend(name for name, count in cursor.fetchall() if count < len(expected))
    return behind

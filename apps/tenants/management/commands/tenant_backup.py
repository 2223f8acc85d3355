"""`manage.py tenant_backup <schema> <file>`: one tenant's schema, as a pg_dump archive.

``pg_dump --format=custom --schema=<schema>``: every table, sequence, index, trigger
and function of that schema, with its rows, from one consistent snapshot. Not in
it: the public schema's rows about the tenant (its Tenant and Domain rows: name,
time zone, host names), which ``tenant_restore`` asks for or takes from the
source tenant when it still exists.

The pg_dump used matches the server's major version: ``$PG_BIN_DIR`` when set,
else Debian's ``/usr/lib/postgresql/<major>/bin``, else the binaries PyPI
``pgserver`` ships (PostgreSQL 16, the embedded server), else ``pg_dump`` on the
PATH; a newer client is accepted when no exact match exists, an older one never.

The connection settings come from Django's ``default`` database and reach the
tools as libpq environment variables (a password never appears on a command line).
The helpers here serve ``tenant_restore`` too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_exists

from apps.tenants.models import Tenant

SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0]) // 10000


def tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    match = re.search(r"\(PostgreSQL\) (\d+)", out.stdout)
    return int(match.group(1)) if match else None


def _candidates(name: str, major: int) -> list[str]:
    found: list[str] = []
    if os.environ.get("PG_BIN_DIR"):
        found.append(str(Path(os.environ["PG_BIN_DIR"]) / name))
    found.append(f"/usr/lib/postgresql/{major}/bin/{name}")
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from pgserver._commands import POSTGRES_BIN_PATH

        found.append(str(Path(POSTGRES_BIN_PATH) / name))
    except ImportError:  # pgserver serves the embedded development server only
        pass
    on_path = shutil.which(name)
    if on_path:
        found.append(on_path)
    return [path for path in found if os.path.isfile(path) and os.access(path, os.X_OK)]


def pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore`` for the server's major version (or newer)."""
    major = server_major()
    versions = {path: tool_major(path) for path in _candidates(name, major)}
    for path, version in versions.items():
        if version == major:
            return path
    newer = sorted((v, p) for p, v in versions.items() if v is not None and v > major)
    if newer:
        return newer[0][1]
    raise CommandError(
        f"No {name} for PostgreSQL {major} (found: {versions or 'none'}). Install "
        f"postgresql-client-{major} or set PG_BIN_DIR to a folder holding {name}."
    )


def libpq_env(database: str | None = None) -> dict[str, str]:
    """The environment for pg_dump/pg_restore/psql: the default database's settings."""
    db: dict[str, Any] = settings.DATABASES["default"]
    env = dict(os.environ)
    for variable, value in (
        ("PGHOST", db.get("HOST")),
        ("PGPORT", db.get("PORT")),
        ("PGUSER", db.get("USER")),
        ("PGPASSWORD", db.get("PASSWORD")),
        ("PGDATABASE", database or db.get("NAME")),
        ("PGSSLMODE", (db.get("OPTIONS") or {}).get("sslmode")),
        ("PGCONNECT_TIMEOUT", str((db.get("OPTIONS") or {}).get("connect_timeout") or "")),
    ):
        if value:
            env[variable] = str(value)
    return env


def run_tool(command: list[str], database: str | None = None) -> str:
    done = subprocess.run(
        command, env=libpq_env(database), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise CommandError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def backup_schema(schema: str, path: Path) -> Path:
    if not SCHEMA_RE.match(schema):
        raise CommandError(f"'{schema}' is not a schema name.")
    if schema == get_public_schema_name() or schema == settings.TENANT_BASE_SCHEMA:
        raise CommandError(f"'{schema}' is not a provider tenant.")
    if not Tenant.objects.filter(schema_name=schema).exists() or not schema_exists(schema):
        raise CommandError(f"There is no tenant schema '{schema}'.")
    path.parent.mkdir(parents=True, exist_ok=True)
    run_tool(
        [
            pg_tool("pg_dump"),
            "--format=custom",
            f'--schema="{schema}"',
            "--no-owner",
            "--no-privileges",
            f"--file={path}",
        ]
    )
    return path


class Command(BaseCommand):
    help = "Dump one tenant's schema with pg_dump (custom format) into a file."

    def add_arguments(self, parser):
        parser.add_argument("schema", help="The tenant's schema name (its slug).")
        parser.add_argument("file", help="Where to write the archive (pg_dump custom format).")

    def handle(self, *args, schema: str, file: str, **options):
        started = time.perf_counter()
        path = backup_schema(schema, Path(file))
        seconds = time.perf_counter() - started
        size = path.stat().st_size
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up schema '{schema}' to {path} ({size / 1024:.0f} KiB) in {seconds:.1f} s."
            )
        )

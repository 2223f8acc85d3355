"""`manage.py tenant_restore <file> <new_slug>`: a tenant_backup archive as a new tenant.

pg_restore always recreates the schema under the name it was dumped from, and that
name usually still belongs to a live tenant. Rewriting the name in the archive's SQL
would be fragile (column defaults such as ``nextval('alpha.x_id_seq')``, trigger
definitions and constraints name it as text), so the restore goes through a scratch
database on the same server, where PostgreSQL itself renames the schema:

1. ``CREATE DATABASE <db>_restore_<random>``; ``pg_restore`` the archive into it;
2. ``ALTER SCHEMA <old> RENAME TO <new_slug>`` there: everything that refers to the
   schema by OID (defaults, sequences, foreign keys, triggers, indexes) follows;
3. ``pg_dump --schema=<new_slug>`` from the scratch database, ``pg_restore`` of that
   into the real database in one transaction; the scratch database is dropped;
4. the restored schema is migrated if the archive is older than the code, API tokens
   and sessions are deleted (unless ``--keep-credentials``: a copy must not accept the
   original's tokens), and the Tenant and its Domain ``<new_slug>.<BASE_DOMAIN>`` are
   registered. A failure in step 3 or 4 leaves neither the schema nor the tenant.

Limits: the role needs CREATEDB (the scratch database) and room for two copies for
a moment; the archive holds one schema, so the tenant's name and time zone come
from ``--name`` / ``--timezone`` or from the source tenant when it still exists;
text that names the old schema inside function bodies would not be renamed (the
project's trigger functions use unqualified names, so there is none); users keep
their passwords; rows in Redis (cache, queued jobs) are not part of a backup.
"""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from pathlib import Path

import psycopg
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django_tenants.utils import schema_context, schema_exists
from psycopg import sql
from rest_framework.authtoken.models import Token

from apps.tenants.management.commands.tenant_backup import libpq_env, pg_tool, run_tool
from apps.tenants.models import Domain, Tenant
from apps.tenants.schemas import schemas_behind
from apps.tenants.services import tenant_domain_for, validate_slug

TOC_SCHEMA = re.compile(r"^\d+; \d+ \d+ SCHEMA - (\S+) ", re.M)


def archive_schema(path: Path) -> str:
    """The one schema a tenant_backup archive holds (from its table of contents)."""
    names = sorted(set(TOC_SCHEMA.findall(run_tool([pg_tool("pg_restore"), "--list", str(path)]))))
    if len(names) != 1:
        raise CommandError(f"{path} holds {len(names)} schemas ({names}); expected one.")
    return names[0]


def _connect(database: str | None = None) -> psycopg.Connection:
    """An autocommit connection (CREATE/DROP DATABASE) with the default database's settings."""
    env = libpq_env(database)
    return psycopg.connect(
        host=env.get("PGHOST"),
        port=env.get("PGPORT"),
        user=env.get("PGUSER"),
        password=env.get("PGPASSWORD"),
        dbname=env.get("PGDATABASE"),
        sslmode=env.get("PGSSLMODE"),
        autocommit=True,
    )


def restore_as(path: Path, source: str, slug: str) -> None:
    """Steps 1-3: the archive's schema ``source`` as schema ``slug`` in this database."""
    scratch = f"{settings.DATABASES['default']['NAME']}_restore_{secrets.token_hex(4)}"[:63]
    restore = [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    with _connect() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
        try:
            run_tool([*restore, "--single-transaction", f"--dbname={scratch}", str(path)])
            with _connect(scratch) as scratch_db:
                scratch_db.execute(
                    sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                        sql.Identifier(source), sql.Identifier(slug)
                    )
                )
            with tempfile.TemporaryDirectory() as folder:
                renamed = Path(folder) / "renamed.dump"
                run_tool(
                    [
                        pg_tool("pg_dump"),
                        "--format=custom",
                        f'--schema="{slug}"',
                        "--no-owner",
                        "--no-privileges",
                        f"--file={renamed}",
                    ],
                    database=scratch,
                )
                target = settings.DATABASES["default"]["NAME"]
                run_tool([*restore, "--single-transaction", f"--dbname={target}", str(renamed)])
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
            )


def drop_schema(slug: str) -> None:
    with connection.cursor() as cursor:  # slug checked by validate_slug: [a-z][a-z0-9]*
        cursor.execute(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE')


class Command(BaseCommand):
    help = "Restore a tenant_backup archive as a new tenant <new_slug> on <new_slug>.<BASE_DOMAIN>."

    def add_arguments(self, parser):
        parser.add_argument("file", help="An archive written by tenant_backup.")
        parser.add_argument("new_slug", help="The new tenant's slug (and schema name).")
        parser.add_argument("--name", help="Display name (default: the source's, 'restored').")
        parser.add_argument("--timezone", help="Default time zone (default: the source's).")
        parser.add_argument(
            "--keep-credentials",
            action="store_true",
            help="Keep API tokens and sessions (e.g. to bring back a deleted tenant).",
        )

    def handle(self, *args, file, new_slug, name, timezone, keep_credentials, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            validate_slug(new_slug)
        except ValidationError as exc:
            messages = [m for field in exc.message_dict.values() for m in field]
            raise CommandError("; ".join(messages)) from exc
        started = time.perf_counter()
        source = archive_schema(path)
        original = Tenant.objects.filter(schema_name=source).first()
        restore_as(path, source, new_slug)
        try:
            if schemas_behind([new_slug]):
                call_command(
                    "migrate_schemas",
                    schema_name=new_slug,
                    tenant=True,
                    interactive=False,
                    verbosity=0,
                )
            with transaction.atomic():
                if not keep_credentials:
                    with schema_context(new_slug):
                        Token.objects.all().delete()
                        Session.objects.all().delete()
                tenant = Tenant(
                    schema_name=new_slug,
                    name=name or (f"{original.name} (restored)" if original else new_slug),
                    default_timezone=timezone
                    or (original.default_timezone if original else settings.DEFAULT_TIME_ZONE),
                )
                tenant.auto_create_schema = False
                tenant.save()
                Domain.objects.create(
                    domain=tenant_domain_for(new_slug), tenant=tenant, is_primary=True
                )
        except BaseException:
            if schema_exists(new_slug) and not Tenant.objects.filter(schema_name=new_slug).exists():
                drop_schema(new_slug)
            raise
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored schema '{source}' from {path} as tenant '{new_slug}' on "
                f"{tenant_domain_for(new_slug)} in {seconds:.1f} s."
            )
        )

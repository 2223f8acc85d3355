"""`make bench`: run every benchmark in a scratch database and record the figures.

The scratch database (<name>_bench beside the configured one) is created,
migrated, measured and dropped, so a developer's data is never touched.
Each benchmark returns a Markdown section; the sections replace their
previous versions in docs/PERFORMANCE.md between ``<!-- bench:NAME -->``
markers, under a header naming the machine, the versions and the date.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
BENCHMARKS = [
    "bench.tenants",
    "bench.clock",
    "bench.ingestion",
    "bench.compliance",
    "bench.portal",
    "bench.jobs",
    "bench.whatif",
]


def _scratch_database() -> tuple[str, str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    sys.path.insert(0, str(ROOT))
    from config.embedded import resolve_service_urls

    database_url, _ = resolve_service_urls()
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") + "_bench"
    return urlunsplit(parts._replace(path="/postgres")), urlunsplit(parts._replace(path="/" + name))


def _recreate(admin_url: str, name: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def _header() -> str:
    import django
    import numpy
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = match.group(1).strip() if match else cpu
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} "
        f"cores ({cpu}), Linux {platform.release()}; Python {platform.python_version()}, "
        f"Django {django.get_version()}, django-tenants {_version('django-tenants')}, "
        f"PostgreSQL {pg_version}, psycopg {psycopg.__version__}, numpy {numpy.__version__}."
    )


def _write(sections: dict[str, str], header: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n\n"
    for name, body in sections.items():
        block = f"<!-- bench:{name} -->\n{body.strip()}\n\n_{header}_\n<!-- /bench:{name} -->"
        pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.S)
        if pattern.search(text):
            text = pattern.sub(block.replace("\\", "\\\\"), text)
        else:
            text += "\n" + block + "\n"
    DOC.write_text(text)


def _settle() -> None:
    """Before each benchmark: write out what the previous one left dirty (dropping a
    million-ticket schema leaves gigabytes for the checkpointer), so that its I/O is not
    timed as the next benchmark's. Needs a superuser; skipped otherwise."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass


def main() -> None:
    admin_url, bench_url = _scratch_database()
    bench_name = urlsplit(bench_url).path.lstrip("/")
    _recreate(admin_url, bench_name)
    os.environ["DATABASE_URL"] = bench_url
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils.module_loading import import_string

    call_command("migrate", interactive=False, verbosity=0)
    selected = sys.argv[1:] or BENCHMARKS
    from django.db import connections

    from apps.core.tenancy import use_public_schema

    sections: dict[str, str] = {}
    header = ""
    try:
        for dotted in selected:
            module = import_string(dotted + ".run")
            name = dotted.rsplit(".", 1)[-1]
            print(f"== {name}", flush=True)
            use_public_schema()  # a benchmark may leave its tenant's schema set
            _settle()
            sections[name] = module()
            print(sections[name], flush=True)
        header = _header()
    finally:
        if sections and not header:  # a later benchmark failed: keep what was measured
            use_public_schema()
            header = _header()
            _write(sections, header)
            print(f"written to {DOC.relative_to(ROOT)} (the benchmarks before the failure)")
        connections.close_all()
        _recreate(admin_url, bench_name, drop_only=True)
    _write(sections, header)
    print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""`make run`: migrate, seed, then run web + worker + beat with honcho.

This process opens the embedded PostgreSQL/Redis (when DATABASE_URL /
REDIS_URL are unset) and hands their URLs to the children through the
environment, so the servers live exactly as long as the whole stack.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections


class Command(BaseCommand):
    help = "Migrate all schemas, seed the demo tenants, and run web + worker + beat."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--no-seed", action="store_true")

    def handle(self, *args, port: int, no_seed: bool, **options):
        call_command("migrate_schemas", interactive=False, verbosity=0)
        if not no_seed:
            call_command("seed_demo")
        connections.close_all()

        base = settings.BASE_DOMAIN
        self.stdout.write(self.style.SUCCESS("\nSLA Portal is starting:"))
        self.stdout.write(f"  public site     http://{base}:{port}/")
        self.stdout.write(f"  demo portal     http://demo.{base}:{port}/")
        self.stdout.write(f"  provider admin  http://demo.{base}:{port}/admin/")
        self.stdout.write(f"  API docs        http://demo.{base}:{port}/api/docs/\n")
        sys.stdout.flush()

        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        env["PYTHONUNBUFFERED"] = "1"
        honcho = Path(sys.executable).with_name("honcho")
        procfile = Path(settings.BASE_DIR) / "Procfile"
        command = [
            str(honcho),
            "start",
            "-f",
            str(procfile),
            "-d",
            str(settings.BASE_DIR),
            "--port",
            str(port),
        ]
        try:
            completed = subprocess.run(command, env=env, check=False)
        except KeyboardInterrupt:
            return
        if completed.returncode not in (0, -2, 130):
            sys.exit(completed.returncode)

"""`make run`: migrate, seed, then run web + worker + beat with honcho.

This process opens the embedded PostgreSQL/Redis (when DATABASE_URL /
REDIS_URL are unset) and hands their URLs to the children through the
environment, so the servers live exactly as long as the whole stack.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from celery import current_app
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
        # The first report dispatch goes out as the worker starts, not 15 minutes later
        # (by task name: the tenants app does not import the reports app).
        current_app.send_task("reports.dispatch_fanout")

        base = settings.BASE_DOMAIN
        self.stdout.write(self.style.SUCCESS("\nSLA Portal is starting:"))
        self.stdout.write(f"  public site     http://{base}:{port}/")
        self.stdout.write(f"  demo portal     http://demo.{base}:{port}/")
        self.stdout.write(f"  provider admin  http://demo.{base}:{port}/admin/")
        self.stdout.write(f"  API docs        http://demo.{base}:{port}/api/docs/")
        mail = settings.EMAIL_HOST or settings.EMAIL_FILE_PATH
        self.stdout.write(f"  e-mails         {mail}\n")
        sys.stdout.flush()

        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        env["PYTHONUNBUFFERED"] = "1"
        # The demo shows the product's own error pages unless DEBUG was asked for.
        env.setdefault("DEBUG", "0")
        # honcho gives each process type its own PORT (web 8000, worker 8100, …): links in
        # the worker's e-mails must name the web's port.
        env.setdefault("PUBLIC_URL_PORT", str(port))
        bin_dir = Path(sys.executable).parent  # the virtualenv's gunicorn and celery
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        honcho = bin_dir / "honcho"
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
        honcho_process = subprocess.Popen(command, env=env)

        def forward(signum, frame):
            # Ctrl-C in a terminal reaches honcho too; a SIGINT/SIGTERM sent to
            # this process alone must also stop web, worker and beat cleanly.
            if honcho_process.poll() is None:
                honcho_process.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGINT, forward)
        signal.signal(signal.SIGTERM, forward)
        returncode = honcho_process.wait()
        # Returning lets the embedded servers' exit handlers stop them.
        if returncode not in (0, -signal.SIGINT, -signal.SIGTERM, 130, 143):
            sys.exit(returncode)

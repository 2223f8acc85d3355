"""openslo_import FILE --revision ID [--tenant T] [--user U]: OpenSLO v1 SLOs -> draft
objectives on a draft revision (apps.revisions.openslo.importing)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from apps.revisions.models import Revision
from apps.revisions.openslo.importing import ImportRefused
from apps.revisions.services import revision_import_openslo
from apps.tenants.selectors import tenant_list_serving


class Command(BaseCommand):
    help = (
        "Create draft objectives on a draft revision from the SLO documents of an OpenSLO v1 "
        "YAML file (one objective per SLO; calendar-aligned 1M/1Q windows, Occurrences). "
        "All or nothing: anything that cannot be expressed is listed and nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", help="An OpenSLO v1 YAML file (several documents); - reads stdin."
        )
        parser.add_argument("--revision", type=int, required=True, help="Id of a draft revision.")
        parser.add_argument(
            "--tenant", help="Schema name, e.g. demo (needed when there are several tenants)."
        )
        parser.add_argument(
            "--user",
            help="Provider staff user the history records (default: the tenant's only superuser).",
        )

    def handle(
        self,
        *args: Any,
        file: str,
        revision: int,
        tenant: str | None,
        user: str | None,
        **options: Any,
    ) -> None:
        text = self._read(file)
        schema = self._tenant(tenant)
        with schema_context(schema):
            found = Revision.objects.select_related("agreement").filter(pk=revision).first()
            if found is None:
                raise CommandError(f"No revision {revision} in tenant '{schema}'.")
            acting = self._user(user)
            try:
                created, plan = revision_import_openslo(
                    revision=found, text=text, acting_user=acting
                )
            except ImportRefused as exc:
                lines = "\n".join(f"  - {problem}" for problem in exc.problems)
                raise CommandError(f"Nothing imported:\n{lines}") from exc
        keys = ", ".join(objective.key for objective in created)
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(created)} draft objective(s) on revision {found.number} of "
                f"{found.agreement.reference} ({schema}): {keys}."
            )
        )
        for ignored in plan.ignored:
            self.stdout.write(f"ignored: {ignored}")

    def _read(self, file: str) -> str:
        try:
            return sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc

    def _tenant(self, tenant: str | None) -> str:
        serving = list(tenant_list_serving().values_list("schema_name", flat=True))
        if tenant is None:
            if len(serving) != 1:
                raise CommandError(f"Name the tenant with --tenant (one of: {', '.join(serving)}).")
            return serving[0]
        if tenant not in serving:
            raise CommandError(f"No tenant '{tenant}'.")
        return tenant

    def _user(self, username: str | None) -> Any:
        users = get_user_model().objects.filter(is_active=True, is_staff=True)
        if username is not None:
            found = users.filter(username=username).first()
            if found is None:
                raise CommandError(f"No active provider staff user '{username}'.")
            return found
        superusers = list(users.filter(is_superuser=True)[:2])
        if len(superusers) != 1:
            raise CommandError("Name the user the history records with --user.")
        return superusers[0]

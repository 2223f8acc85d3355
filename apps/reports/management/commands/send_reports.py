"""send_reports --tenant T [--period P] [--dry-run]: send the reports that are due, once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django_tenants.utils import schema_context
from tqdm import tqdm

from apps.reports.models import ReportRun, ReportSubscription, RunStatus
from apps.reports.schedule import frequency_of_label
from apps.reports.services import run_send, subscription_due
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Send a tenant's report e-mails that are due (or those of one period); a report "
        "already sent is never sent again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Schema name, e.g. demo.")
        parser.add_argument(
            "--period", help="YYYY-MM, YYYY-Qn or YYYY-Www (default: each one's latest due)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Show, send nothing.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self,
        *args: Any,
        tenant: str,
        period: str | None,
        dry_run: bool,
        no_progress: bool,
        **options: Any,
    ) -> None:
        if not Tenant.objects.filter(schema_name=tenant, is_template=False).exists():
            raise CommandError(f"No tenant '{tenant}'.")
        frequency = None
        if period:
            try:
                frequency = frequency_of_label(period)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            period = period.strip()
        now = timezone.now()
        with schema_context(tenant):
            subscriptions = ReportSubscription.objects.filter(active=True).select_related(
                "party", "contact", "user"
            )
            if frequency:
                subscriptions = subscriptions.filter(frequency=frequency)
            work = [(s, period or subscription_due(s, now).label) for s in subscriptions]
            done = set(
                ReportRun.objects.filter(
                    status__in=[RunStatus.SENT, RunStatus.SKIPPED]
                ).values_list("subscription_id", "period")
            )
            pending = [(s, label) for s, label in work if (s.pk, label) not in done]
            self.stdout.write(
                f"{tenant}: {len(work)} subscription(s), {len(work) - len(pending)} already "
                f"sent, {len(pending)} to send{' (dry run)' if dry_run else ''}."
            )
            outcomes: dict[str, int] = {}
            for subscription, label in tqdm(pending, disable=no_progress or dry_run, unit="report"):
                if dry_run:
                    self.stdout.write(
                        f"  would send {label} to {subscription.recipient} ({subscription.party})"
                    )
                    continue
                try:
                    outcome = run_send(subscription, label)
                except Exception as exc:  # reported, and the command fails at the end
                    outcome = "not sent"
                    self.stderr.write(f"  {label} to {subscription.recipient}: {exc!r}")
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        summary = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) or "nothing sent"
        if outcomes.get("not sent"):
            raise CommandError(f"{tenant}: {summary}; run it again to send the rest.")
        self.stdout.write(self.style.SUCCESS(f"{tenant}: {summary}."))

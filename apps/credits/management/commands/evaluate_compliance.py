"""evaluate_compliance --tenant T --period 2026-10 [--agreement ID]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context
from tqdm import tqdm

from apps.agreements.selectors import agreement_list_evaluated
from apps.calendars.periods import period_from_text
from apps.credits.settlement import period_settle
from apps.tenants.models import Tenant

CHUNK = 25


class Command(BaseCommand):
    help = "Evaluate compliance (and credits, for finished periods) of a tenant for a period."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Schema name, e.g. demo.")
        parser.add_argument("--period", required=True, help="YYYY-MM or YYYY-Qn.")
        parser.add_argument("--agreement", type=int, help="Only this agreement (id).")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, tenant, period, agreement, no_progress, **options):
        if not Tenant.objects.filter(schema_name=tenant, is_template=False).exists():
            raise CommandError(f"No tenant '{tenant}'.")
        try:
            parsed = period_from_text(period)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        with schema_context(tenant):
            queryset = agreement_list_evaluated()
            if agreement is not None:
                queryset = queryset.filter(pk=agreement)
                if not queryset.exists():
                    raise CommandError(f"No agreement {agreement} in tenant '{tenant}'.")
            agreements = list(queryset)
            totals: dict[str, int] = {}
            with tqdm(
                total=len(agreements),
                unit="agreement",
                disable=no_progress,
                desc=f"{tenant} {parsed}",
            ) as bar:
                for start in range(0, len(agreements), CHUNK):
                    chunk = agreements[start : start + CHUNK]
                    evaluation = period_settle(agreements=chunk, period=parsed)
                    for result in evaluation.results:
                        totals[result.status] = totals.get(result.status, 0) + 1
                    bar.update(len(chunk))
        summary = ", ".join(f"{count} {status}" for status, count in sorted(totals.items()))
        outcome = summary or "nothing"
        self.stdout.write(
            self.style.SUCCESS(
                f"{tenant} {parsed}: {len(agreements)} agreements evaluated — {outcome}."
            )
        )

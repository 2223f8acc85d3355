"""The demo tells the same story whatever the day it is seeded (no time bomb).

The demo's data is seeded into a throw-away tenant (rolled back with the test) with
"now" pinned to two days more than a year apart. On each: the last twelve finished
months hold a missed month with breaching tickets, which the portal's grid shows;
a revision waits for alice's acceptance and a draft waits for what-if, both taking
effect after today, with texts that name their month; credits were calculated.
Seeding again a year later changes nothing (seed_demo completes, never rewrites).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.agreements.models import Agreement
from apps.calendars.models import Calendar
from apps.calendars.periods import parse_period
from apps.compliance.breaches import CLOCKED, period_breaches
from apps.compliance.models import ComplianceResult, ResultStatus
from apps.credits.models import ServiceCredit
from apps.credits.whatif import last_finished_months, periods_between
from apps.demo.dates import DemoDates, month_name
from apps.demo.seed import DEMO_TENANTS, seed_tenant
from apps.measurements.models import Outage, Sample, Ticket
from apps.portal.selectors import overview
from apps.revisions.models import Revision, RevisionStatus
from apps.tenants.services import tenant_create
from tests.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")  # the tenant's timezone (DEFAULT_TIME_ZONE)
SLUG = "demoseedtest"
DEMO = next(spec for spec in DEMO_TENANTS if spec.slug == "demo")
DAYS = [
    datetime(2026, 12, 3, 10, 30, tzinfo=BERLIN),
    datetime(2028, 3, 15, 10, 30, tzinfo=BERLIN),
]


def _counts() -> dict[str, int]:
    return {
        "agreements": Agreement.objects.count(),
        "revisions": Revision.objects.count(),
        "tickets": Ticket.objects.count(),
        "outages": Outage.objects.count(),
        "samples": Sample.objects.count(),
        "results": ComplianceResult.objects.count(),
        "credits": ServiceCredit.objects.count(),
    }


@pytest.mark.parametrize("moment", DAYS, ids=[f"{m:%Y-%m-%d}" for m in DAYS])
def test_the_demo_seeded_on_any_day_has_missed_months_a_pending_revision_and_credits(
    moment, time_machine
):
    time_machine.move_to(moment, tick=False)
    today = moment.date()
    dates = DemoDates(today)
    tenant = tenant_create(slug=SLUG, name="Northwind Hosting (seed test)").tenant
    with schema_context(SLUG):
        seed_tenant(DEMO, tenant=tenant, password=PASSWORD, today=today)

        # The data is dated from today: terms began 14 months ago, nothing lies ahead.
        assert set(Agreement.objects.values_list("term_start", flat=True)) == {dates.term_start}
        assert not Ticket.objects.filter(opened_at__gt=timezone.now()).exists()
        assert Ticket.objects.filter(opened_at__date__gte=dates.this_month).exists()
        first_ticket = Ticket.objects.order_by("opened_at").first()
        assert first_ticket is not None
        assert first_ticket.opened_at.date() >= dates.months_ago(13)

        # A missed month with breaching tickets among the last twelve finished months.
        first, last = last_finished_months(today)
        finished = [p.label for p in periods_between(first, last) if p.kind == "month"]
        assert len(finished) == 12 and finished[-1] == f"{dates.months_ago(1):%Y-%m}"
        missed = ComplianceResult.objects.filter(
            status=ResultStatus.MISSED, period__in=finished, metric__in=CLOCKED
        ).select_related("agreement")
        with_breaches = {
            (result.agreement.reference, result.period)
            for result in missed
            if period_breaches(result.agreement, parse_period(result.period), now=timezone.now())
        }
        assert with_breaches, "no missed month with breaching tickets"

        # ... which alice sees in the portal's twelve-month grid of Globex Germany's SLA.
        alice = get_user_model().objects.get(username="alice")
        seen = overview(alice, Agreement.objects.all(), today)
        (globex_de,) = [s for s in seen.summaries if s.agreement.reference == "NW-GLOBEX-DE"]
        grid_missed = {
            cell.period
            for row in globex_de.rows
            if row.objective.metric in CLOCKED
            for cell in row.cells
            if cell.status == ResultStatus.MISSED
        }
        shown = sorted(grid_missed & {p for ref, p in with_breaches if ref == "NW-GLOBEX-DE"})
        assert shown, "the portal's grid shows no missed month with breaching tickets"

        # The browser test's step: alice opens that month from the grid, sees its breaches.
        client = Client(HTTP_HOST=f"{SLUG}.{settings.BASE_DOMAIN}")
        sign_in(client, "alice")
        de = globex_de.agreement.pk
        page = client.get(f"/agreements/{de}/").content.decode()
        assert f'class="tile missed" href="/agreements/{de}/periods/{shown[-1]}/"' in page
        period = client.get(f"/agreements/{de}/periods/{shown[-1]}/")
        assert period.status_code == 200
        assert "Tickets that breached" in period.content.decode()

        # Revision 2 took effect 6 months ago; revision 3 waits for alice, from next year.
        chain = {r.number: r for r in Revision.objects.filter(agreement=globex_de.agreement)}
        assert chain[2].is_binding and chain[2].effective_from == dates.months_ago(6)
        (pending,) = seen.awaiting
        assert pending == chain[3] and pending.status == RevisionStatus.APPROVED
        assert pending.effective_from == date(today.year + 1, 1, 1) > today
        assert pending.summary.startswith(f"From January {today.year + 1}:")
        assert month_name(pending.effective_from) in pending.sections.get(key="overview").body

        # Initech's draft, for what-if, also takes effect after today.
        draft = Revision.objects.get(agreement__reference="NW-INITECH", status=RevisionStatus.DRAFT)
        assert draft.effective_from > today

        # Credits were calculated for finished months of the last year.
        credited = ServiceCredit.objects.filter(period__in=finished, amount__gt=0)
        assert credited.filter(agreement=globex_de.agreement).exists()

        # Northwind's company holidays run up to next year.
        berlin = Calendar.objects.get(name="Berlin office hours")
        assert berlin.holidays.filter(date=date(today.year + 1, 12, 24)).exists()

        # Seeding again a year later completes nothing and rewrites nothing.
        before = _counts()
        later = moment + timedelta(days=365)
        time_machine.move_to(later, tick=False)
        seed_tenant(DEMO, tenant=tenant, password=PASSWORD, today=later.date())
        assert _counts() == before
        assert Revision.objects.get(pk=pending.pk).effective_from == pending.effective_from

"""When things happen in the demo: every date is an offset from the day it is seeded.

A demo seeded on any day tells the same story, so the portal and the tests that use
it never rot with the calendar: the agreements' terms began 14 months ago; tickets,
outages and samples cover the 13 months before the current one and the current one
up to now, with bad months among the last 12 finished ones (apps.demo.measurements);
revision 2 of Globex Germany's SLA took effect 6 months ago; the revision waiting for
alice's acceptance and Initech's draft take effect on 1 January of next year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from apps.tenants.selectors import tenant_timezone

TERM_MONTHS_AGO = 14  # the agreements' term start (and revision 1's effective date)
HISTORY_MONTHS = 13  # finished months with measurements before the current one
REVISION_2_MONTHS_AGO = 6


def demo_today() -> date:
    """Today in the current tenant's timezone (call it inside the tenant's schema)."""
    return timezone.localdate(timezone.now(), ZoneInfo(tenant_timezone()))


def month_name(day: date) -> str:
    """ "January 2028", for the demo's texts (always English, like the rest of them)."""
    return f"{day:%B %Y}"


@dataclass(frozen=True)
class DemoDates:
    """The demo's dates for a demo seeded on ``today``."""

    today: date

    @property
    def this_month(self) -> date:
        return self.today.replace(day=1)

    def months_ago(self, count: int) -> date:
        """The first day of the month ``count`` months before the current one."""
        return self.this_month - relativedelta(months=count)

    def age(self, month: date) -> int:
        """How many months ``month`` lies before the current one (0: the current month)."""
        return (self.today.year - month.year) * 12 + self.today.month - month.month

    @property
    def months(self) -> list[date]:
        """The first day of every month with measurements, oldest first, this month last."""
        return [self.months_ago(count) for count in range(HISTORY_MONTHS, -1, -1)]

    @property
    def term_start(self) -> date:
        return self.months_ago(TERM_MONTHS_AGO)

    @property
    def revision_2_from(self) -> date:
        return self.months_ago(REVISION_2_MONTHS_AGO)

    @property
    def next_year(self) -> date:
        """1 January of next year: the revision awaiting acceptance and the draft start then."""
        return date(self.today.year + 1, 1, 1)

    @property
    def years(self) -> range:
        """The calendar years the demo touches, from the term start to next year."""
        return range(self.term_start.year, self.next_year.year + 1)

"""Reporting periods: calendar months ("2026-10") and quarters ("2026-Q4").

A period is bounded by local midnight in a timezone (the objective's calendar,
else the tenant's default), so October in Berlin starts at 2026-09-30T22:00Z
and in New York at 2026-10-01T04:00Z.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True, order=True)
class Period:
    first_day: date
    kind: str  # "month" | "quarter"

    @property
    def months(self) -> int:
        return 1 if self.kind == "month" else 3

    @property
    def end_day(self) -> date:
        """The first day after the period."""
        return self.first_day + relativedelta(months=self.months)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.first_day:%Y-%m}"
        return f"{self.first_day.year}-Q{(self.first_day.month - 1) // 3 + 1}"

    def __str__(self) -> str:
        return self.label

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: local midnights in ``timezone``."""
        zone = ZoneInfo(timezone)
        return (
            datetime.combine(self.first_day, time(0), zone),
            datetime.combine(self.end_day, time(0), zone),
        )

    def previous(self) -> Period:
        return Period(self.first_day - relativedelta(months=self.months), self.kind)

    def next(self) -> Period:
        return Period(self.end_day, self.kind)


def parse_period(text: str) -> Period:
    """'2026-10' or '2026-Q4' -> Period; ValueError with a readable message otherwise."""
    text = (text or "").strip()
    if match := _MONTH.match(text):
        return Period(date(int(match[1]), int(match[2]), 1), "month")
    if match := _QUARTER.match(text):
        return Period(date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1), "quarter")
    raise ValueError(
        f"'{text}' is not a period; use YYYY-MM (e.g. 2026-10) or YYYY-Qn (e.g. 2026-Q4)."
    )


def period_containing(day: date, kind: str) -> Period:
    if kind == "month":
        return Period(day.replace(day=1), "month")
    return Period(date(day.year, (day.month - 1) // 3 * 3 + 1, 1), "quarter")

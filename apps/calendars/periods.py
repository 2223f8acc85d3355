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
from django.core.exceptions import ValidationError

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\Z")
_QUARTER = re.compile(r"^([0-9]{4})-Q([1-4])\Z")
# Periods the product reasons about: the accepted span of instants (apps.core.timestamps).
FIRST_YEAR, LAST_YEAR = 1970, 2099


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
        period = Period(date(int(match[1]), int(match[2]), 1), "month")
    elif match := _QUARTER.match(text):
        period = Period(date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1), "quarter")
    else:
        raise ValueError(
            f"'{text[:20]}' is not a period; use YYYY-MM (e.g. 2026-10) or YYYY-Qn (e.g. 2026-Q4)."
        )
    if not FIRST_YEAR <= period.first_day.year <= LAST_YEAR:
        raise ValueError(f"Periods lie between {FIRST_YEAR} and {LAST_YEAR}.")
    return period


def period_from_text(text: str, *, field: str = "period") -> Period:
    """``parse_period`` for user input: a ValidationError naming ``field`` instead."""
    try:
        return parse_period(text)
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from exc


def period_containing(day: date, kind: str) -> Period:
    if kind == "month":
        return Period(day.replace(day=1), "month")
    return Period(date(day.year, (day.month - 1) // 3 * 3 + 1, 1), "quarter")

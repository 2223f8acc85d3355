"""What the portal shows: a compliance grid per agreement and the credits owed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from apps.agreements.models import Agreement
from apps.agreements.selectors import agreement_list_visible
from apps.compliance.models import ComplianceResult
from apps.core.access import User

MONTHS = 12


@dataclass
class Row:
    key: str
    name: str
    cells: list[ComplianceResult | None]


@dataclass
class Grid:
    agreement: Agreement
    periods: list[str]
    rows: list[Row] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return sum(
            1
            for row in self.rows
            for cell in row.cells
            if cell is not None and cell.status == "missed"
        )


def recent_months(today: date | None = None, count: int = MONTHS) -> list[str]:
    today = today or timezone.localdate()
    first = today.replace(day=1)
    return [f"{first - relativedelta(months=offset):%Y-%m}" for offset in range(count - 1, -1, -1)]


def compliance_grids(user: User, agreements: list[Agreement] | None = None) -> list[Grid]:
    """Monthly results of the last twelve months, one row per objective key."""
    agreements = agreements if agreements is not None else list(agreement_list_visible(user))
    periods = recent_months()
    results = ComplianceResult.objects.filter(
        agreement__in=[a.pk for a in agreements], period__in=periods
    ).select_related("objective")
    by_agreement: dict[int, dict[str, dict[str, ComplianceResult]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for result in results:
        by_agreement[result.agreement_id][result.key][result.period] = result
    grids = []
    for agreement in agreements:
        grid = Grid(agreement, periods)
        for key, cells in sorted(by_agreement[agreement.pk].items()):
            latest = cells[max(cells)]
            grid.rows.append(
                Row(
                    key,
                    latest.objective.name or latest.objective.describe(),
                    [cells.get(p) for p in periods],
                )
            )
        grids.append(grid)
    return grids

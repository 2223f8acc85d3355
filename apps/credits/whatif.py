"""What-if: what a revision would have meant for past periods, beside what happened.

A revision of any status — a draft before it is approved, an approved one awaiting the
customer's acceptance, a copy of the one in force — is evaluated for a range of periods
as if it were in force for its agreement (inheriting from the agreements above as
usual): by the evaluation's own compute step (``apps.compliance.evaluation.
compute_period``: the same jobs, loaders, clock and judging) and the credit rules
(``apps.credits.calculation``: tiers, cap, rounding). Beside each figure stands what was
actually judged (the stored ComplianceResult) and credited (the ServiceCredit).

Nothing is stored: the compute step writes nothing, and the whole what-if runs in a
savepoint that is rolled back, so no row can change even by mistake.

Periods: the months from ``from`` to ``to`` (both "YYYY-MM"; a quarter "YYYY-Qn"
stands for its first or last month) for monthly objectives, and the quarters lying
wholly inside them for quarterly objectives; at most MAX_MONTHS months. An objective's
credit is shown before the period's cap; the period's credit is capped, and is zero
where the ledger would owe nothing (``CreditComputation.earns``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.agreements.models import Agreement
from apps.calendars.periods import Period, parse_period
from apps.compliance.evaluation import compute_period
from apps.compliance.models import ComplianceResult, ResultStatus
from apps.core.access import ActingUser, User
from apps.core.money import percent_of
from apps.credits.calculation import ZERO, credit_for_results, fee_basis_for
from apps.credits.models import CreditStatus, ServiceCredit
from apps.credits.whatif_lines import Credit, Judged, ObjectiveLine, PeriodLine, Total, WhatIf
from apps.parties.selectors import party_ids_visible_to
from apps.revisions.models import Revision, RevisionStatus
from apps.revisions.selectors import (
    credit_tiers_by_revision,
    effective_objectives_many,
    revision_list_visible,
)

MAX_MONTHS = 24
DEFAULT_MONTHS = 12


# --- who may try which revision ----------------------------------------------------


def revision_list_what_if(user: User) -> QuerySet[Revision]:
    """The revisions a user may try out: provider staff any of them, drafts included;
    a customer only an approved revision of their agreement that awaits their acceptance."""
    queryset = revision_list_visible(user)
    if party_ids_visible_to(user) is None:
        return queryset
    return awaiting_acceptance(queryset)


def awaiting_acceptance(queryset: QuerySet[Revision]) -> QuerySet[Revision]:
    """Approved revisions that bind only once the customer accepts them."""
    return queryset.filter(status=RevisionStatus.APPROVED, agreement__requires_acceptance=True)


# --- the range -----------------------------------------------------------------------


def _month(text: Any, name: str, *, last: bool) -> Period:
    if not isinstance(text, str):
        raise ValidationError({name: "A period as text: YYYY-MM (e.g. 2026-01)."})
    try:
        period = parse_period(text)
    except ValueError as exc:
        raise ValidationError({name: str(exc)}) from exc
    day = period.first_day if not last else period.end_day - relativedelta(months=1)
    return Period(day, "month")


def what_if_range(*, start: Any, end: Any) -> tuple[Period, Period]:
    """The first and the last month of a what-if; ValidationError naming "from"/"to"."""
    errors: dict[str, list[str]] = {}
    first = last = None
    for name, text, is_last in (("from", start, False), ("to", end, True)):
        try:
            month = _month(text, name, last=is_last)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        if is_last:
            last = month
        else:
            first = month
    if errors:
        raise ValidationError(errors)
    assert first is not None and last is not None
    if last < first:
        raise ValidationError({"to": f"The range ends ({last}) before it starts ({first})."})
    months = (last.first_day.year - first.first_day.year) * 12 + (
        last.first_day.month - first.first_day.month
    )
    if months + 1 > MAX_MONTHS:
        raise ValidationError(
            {"to": f"At most {MAX_MONTHS} months at a time; this range has {months + 1}."}
        )
    return first, last


def last_finished_months(today: date, count: int = DEFAULT_MONTHS) -> tuple[Period, Period]:
    """The ``count`` months before the current one ("last year"), as (first, last)."""
    current = Period(today.replace(day=1), "month")
    last = current.previous()
    return Period(current.first_day - relativedelta(months=count), "month"), last


def periods_between(first: Period, last: Period) -> list[Period]:
    """The months from ``first`` to ``last`` and the quarters wholly inside them, each
    quarter after its last month."""
    found: list[Period] = []
    month = first
    while month <= last:
        found.append(month)
        if month.first_day.month % 3 == 0:  # a quarter's last month
            quarter = Period(month.first_day - relativedelta(months=2), "quarter")
            if quarter.first_day >= first.first_day:
                found.append(quarter)
        month = month.next()
    return found


def _amount(fee_basis: Decimal, percent: Decimal, currency: str) -> Decimal:
    return percent_of(fee_basis, percent, currency)


def _judged(
    result: ComplianceResult, percent: Decimal, fee_basis: Decimal, currency: str
) -> Judged:
    return Judged(
        status=result.status,
        attained=result.attained,
        target=result.target,
        comparison=result.comparison,
        margin=result.margin,
        data_points=result.data_points,
        percent=percent,
        amount=_amount(fee_basis, percent, currency),
        currency=currency,
        calendar=str(result.detail.get("calendar", "")),
        metric=result.metric,
        sample_metric=result.objective.sample_metric,
    )


def _period_line(
    *,
    period: Period,
    revision: Revision,
    agreement: Agreement,
    computed: list[ComplianceResult],
    stored: list[ComplianceResult],
    credit: ServiceCredit | None,
    tiers: dict,
    names: dict[str, str],
) -> PeriodLine:
    currency = agreement.currency
    fee_basis = fee_basis_for(monthly_fee=agreement.monthly_fee, period=period)
    computation = credit_for_results(
        results=computed,
        tiers_by_revision=tiers,
        cap_percent=revision.credit_cap_percent,
        fee_basis=fee_basis,
        currency=currency,
    )
    earns = computation.earns
    mine_percent = {o.key: o.percent for o in computation.objectives} if earns else {}
    what_if = Credit(
        computation.percent if earns else ZERO, computation.amount if earns else ZERO, currency
    )
    actual = None
    theirs_percent: dict[str, Decimal] = {}
    theirs_basis, theirs_currency = fee_basis, currency
    if credit is not None:
        void = credit.status == CreditStatus.VOID
        actual = Credit(
            ZERO if void else credit.percent,
            ZERO if void else credit.amount,
            credit.currency,
            credit.status,
        )
        if not void:
            theirs_percent = {
                item["key"]: Decimal(item.get("percent") or "0") for item in credit.objectives
            }
        theirs_basis, theirs_currency = credit.fee_basis, credit.currency
    mine = {r.key: r for r in computed}
    theirs = {r.key: r for r in stored}
    lines = []
    for key in sorted(set(mine) | set(theirs)):
        new, old = mine.get(key), theirs.get(key)
        lines.append(
            ObjectiveLine(
                key=key,
                name=names.get(key) or key,
                metric=(new or old).metric,  # type: ignore[union-attr]  # one of them exists
                what_if=None
                if new is None
                else _judged(new, mine_percent.get(key, ZERO), fee_basis, currency),
                actual=None
                if old is None
                else _judged(old, theirs_percent.get(key, ZERO), theirs_basis, theirs_currency),
            )
        )
    return PeriodLine(period, lines, what_if, actual)


def revision_what_if(
    *,
    revision: Revision,
    first: Period,
    last: Period,
    acting_user: ActingUser,
    now: datetime | None = None,
) -> WhatIf:
    """Evaluate ``revision`` as if it were in force from ``first`` to ``last`` (months),
    beside the stored results and credits. Writes nothing (a rolled-back savepoint).

    ``acting_user`` None is the system (a benchmark, a command); provider staff may try
    any revision; a customer only one in ``revision_list_what_if`` (else PermissionDenied).
    """
    if acting_user is not None and not (
        revision_list_what_if(acting_user).filter(pk=revision.pk).exists()
    ):
        raise PermissionDenied("You may not try out this revision.")
    started = time.perf_counter()
    now = now or timezone.now()
    agreement = revision.agreement
    periods = periods_between(first, last)
    labels = [period.label for period in periods]
    with transaction.atomic():
        effective = effective_objectives_many([agreement], last.first_day, assume=revision)[
            agreement.pk
        ]
        computed = {
            period.label: compute_period(
                agreements=[agreement], period=period, now=now, assume=revision
            )
            for period in periods
        }
        stored: dict[str, list[ComplianceResult]] = defaultdict(list)
        for result in ComplianceResult.objects.filter(
            agreement=agreement, period__in=labels
        ).select_related("objective"):
            stored[result.period].append(result)
        credits = {
            credit.period: credit
            for credit in ServiceCredit.objects.filter(agreement=agreement, period__in=labels)
        }
        missed = [
            r for results in computed.values() for r in results if r.status == ResultStatus.MISSED
        ]
        tiers = credit_tiers_by_revision(r.revision_id for r in missed)
        names = {e.key: e.objective.name for e in effective}
        for results in [*computed.values(), *stored.values()]:
            for result in results:
                names.setdefault(result.key, result.objective.name)
        report = WhatIf(revision, agreement, first, last, now, effective)
        for period in periods:
            if not computed[period.label] and not stored[period.label]:
                continue  # no objective of this kind (e.g. a quarter without quarterly ones)
            report.periods.append(
                _period_line(
                    period=period,
                    revision=revision,
                    agreement=agreement,
                    computed=computed[period.label],
                    stored=stored[period.label],
                    credit=credits.get(period.label),
                    tiers=tiers,
                    names=names,
                )
            )
        transaction.set_rollback(True)  # a what-if never stores anything
    report.totals = _totals(report.periods)
    report.seconds = time.perf_counter() - started
    return report


def _totals(lines: list[PeriodLine]) -> list[Total]:
    what_if: dict[str, Decimal] = defaultdict(lambda: ZERO)
    actual: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        what_if[line.what_if.currency] += line.what_if.amount
        if line.actual is not None:
            actual[line.actual.currency] += line.actual.amount
    return [
        Total(currency, what_if[currency], actual[currency])
        for currency in sorted(set(what_if) | set(actual))
    ]

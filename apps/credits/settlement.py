"""Settlement: evaluate a period's compliance, then turn the misses of a finished period
into credits. One function for the scheduled job, the management command and the API.

The evaluation (apps.compliance) never knows about money; this is the step that
joins the two. A period that is still open is evaluated (results pending) and
earns nothing yet; once it has ended its credits are calculated (idempotent).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.agreements.models import Agreement
from apps.calendars.periods import Period, period_containing
from apps.compliance.evaluation import Evaluation, evaluate_period
from apps.compliance.models import ComplianceResult
from apps.core.access import ActingUser, is_provider_staff
from apps.credits.models import PeriodClose, ServiceCredit
from apps.credits.services import credit_calculate

# Late data (a ticket resolved yesterday, an outage recorded after the fact) is
# counted while a period is in its grace window; then it is closed.
GRACE = timedelta(days=5)


def period_settle(
    *,
    agreements: Iterable[Agreement],
    period: Period,
    acting_user: ActingUser = None,
    now: datetime | None = None,
) -> Evaluation:
    """Evaluate ``period`` for the agreements and, once the period is over, their credits.

    ``acting_user`` is None for scheduled jobs and commands, otherwise provider staff.
    """
    if acting_user is not None and not is_provider_staff(acting_user):
        raise PermissionDenied("Only provider staff may evaluate compliance.")
    agreements = list(agreements)
    now = now or timezone.now()
    evaluation = evaluate_period(
        agreements=agreements, period=period, now=now, acting_user=acting_user
    )
    ended = {result.agreement_id for result in evaluation.results if result.period_end <= now}
    for agreement in agreements:
        if agreement.pk in ended:
            credit_calculate(agreement=agreement, period=period, acting_user=acting_user)
    return evaluation


def periods_to_close(now: datetime) -> list[Period]:
    """The months and quarters that ended more than GRACE ago, back to one year."""
    found = []
    for kind, back in (("month", 12), ("quarter", 4)):
        period = period_containing(timezone.localdate(now), kind).previous()
        for _ in range(back):
            _, end = period.bounds("UTC")
            if end + GRACE <= now:
                found.append(period)
            period = period.previous()
    return found


def period_close(*, agreement: Agreement, period: Period, now: datetime | None = None) -> bool:
    """Close one agreement's period: settle it a last time, make its results final, and
    record the close. Returns False (and does nothing) when it was closed already, so a
    period closed twice is settled once; later data then becomes adjustments."""
    now = now or timezone.now()
    if PeriodClose.objects.filter(agreement=agreement, period=period.label).exists():
        return False
    with transaction.atomic():
        evaluation = period_settle(agreements=[agreement], period=period, now=now)
        finished = [r for r in evaluation.results if r.period_end + GRACE <= now]
        if not finished:
            return False
        ComplianceResult.objects.filter(pk__in=[r.pk for r in finished]).update(final=True)
        credit = ServiceCredit.objects.filter(agreement=agreement, period=period.label).first()
        try:
            with transaction.atomic():
                PeriodClose.objects.create(
                    agreement=agreement,
                    period=period.label,
                    closed_at=now,
                    results=len(finished),
                    credit=credit,
                )
        except IntegrityError:  # closed by someone else meanwhile: theirs stands
            transaction.set_rollback(True)
            return False
    return True


def closes_due(agreements: list[Agreement], now: datetime) -> list[tuple[Agreement, Period]]:
    """The (agreement, period) pairs past their grace window and not closed yet: one query."""
    periods = periods_to_close(now)
    closed = set(
        PeriodClose.objects.filter(
            agreement__in=[a.pk for a in agreements], period__in=[p.label for p in periods]
        ).values_list("agreement_id", "period")
    )
    return [
        (agreement, period)
        for agreement in agreements
        for period in periods
        if (agreement.pk, period.label) not in closed and agreement.term_start < period.end_day
    ]

"""Settlement: evaluate a period's compliance, then turn the misses of a finished period
into credits. One function for the scheduled job, the management command and the API.

The evaluation (apps.compliance) never knows about money; this is the step that
joins the two. A period that is still open is evaluated (results pending) and
earns nothing yet; once it has ended its credits are calculated (idempotent).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.agreements.models import Agreement
from apps.calendars.periods import Period
from apps.compliance.evaluation import Evaluation, evaluate_period
from apps.core.access import ActingUser, is_provider_staff
from apps.credits.services import credit_calculate


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

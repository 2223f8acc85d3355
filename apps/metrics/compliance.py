"""Compliance services and selectors: evaluate agreements, read results, at-risk figures."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from apps.agreements.models import Agreement
from apps.agreements.selectors import agreement_list_visible
from apps.metrics.evaluation import Evaluation, evaluate_period
from apps.metrics.periods import Period, parse_period
from apps.metrics.results import ComplianceResult
from apps.parties.selectors import User, is_provider_staff


def period_from_text(text: str) -> Period:
    try:
        return parse_period(text)
    except ValueError as exc:
        raise ValidationError({"period": str(exc)}) from exc


def compliance_evaluate(
    *,
    agreements: Iterable[Agreement],
    period: Period,
    acting_user: Any = None,
    now: datetime | None = None,
) -> Evaluation:
    """Evaluate ``period`` for the agreements and, once the period is over, their credits."""
    if acting_user is not None and not is_provider_staff(acting_user):
        raise PermissionDenied("Only provider staff may evaluate compliance.")
    agreements = list(agreements)
    now = now or timezone.now()
    evaluation = evaluate_period(
        agreements=agreements, period=period, now=now, acting_user=acting_user
    )
    credits_for_closed_period(
        agreements=agreements,
        evaluation=evaluation,
        period=period,
        now=now,
        acting_user=acting_user,
    )
    return evaluation


def credits_for_closed_period(
    *,
    agreements: list[Agreement],
    evaluation: Evaluation,
    period: Period,
    now: datetime,
    acting_user: Any,
) -> None:
    """Turn the misses of a finished period into credits (apps.credits owns the rules)."""
    from apps.credits.services import credit_calculate  # credits import metrics: import late

    ended = {r.agreement_id for r in evaluation.results if r.period_end <= now}
    for agreement in agreements:
        if agreement.pk in ended:
            credit_calculate(agreement=agreement, period=period.label, acting_user=acting_user)


def result_list_visible(user: User) -> QuerySet[ComplianceResult]:
    """Results of the agreements the user may see."""
    return (
        ComplianceResult.objects.select_related("agreement", "objective", "revision")
        .filter(agreement__in=agreement_list_visible(user).values("pk"))
        .order_by("agreement__reference", "-period", "key")
    )

"""Detection: read the current state, propose a Notice per (kind, subject, period, state).

Nothing here remembers what ran before: the UNIQUE dedupe key makes a repeat a
no-op (``services.notices_record``), so detection may run as often, as late and as
concurrently as the scheduler likes. See the package docstring for the kinds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation

from apps.agreements.models import Agreement
from apps.agreements.selectors import agreement_list_evaluated
from apps.calendars.periods import parse_period
from apps.compliance.models import ComplianceResult, ResultStatus
from apps.core.money import format_money
from apps.core.tenancy import current_schema
from apps.credits.models import CreditEvent, CreditStatus, ServiceCredit
from apps.notifications.models import Notice, NoticeKind
from apps.notifications.services import deliveries_plan, notices_record
from apps.notifications.texts import notice_texts, objective_target
from apps.revisions.models import Revision, RevisionStatus
from apps.revisions.units import format_value
from apps.tenants.selectors import tenant_base_url, tenant_timezone

# Events (a miss, a credit, a dispute) older than this are not told any more: a
# tenant's history is not mailed out when the app is installed.
LOOKBACK = timedelta(days=7)
PAYLOAD_VERSION = 1


@dataclass(frozen=True)
class Scan:
    now: datetime
    since: datetime
    today: date
    base_url: str
    schema: str


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _notice(
    scan: Scan,
    *,
    kind: str,
    agreement: Agreement,
    subject: str,
    period: str,
    state: str,
    obj: tuple[str, int],
    path: str,
    data: dict[str, Any],
) -> Notice:
    title, body = notice_texts(kind, agreement.reference, period, data)
    payload = {
        "version": PAYLOAD_VERSION,
        "event": kind,
        "created_at": scan.now.isoformat(),
        "tenant": scan.schema,
        "party": {"id": agreement.customer_id, "name": agreement.customer.name},
        "agreement": {
            "id": agreement.pk,
            "reference": agreement.reference,
            "title": agreement.title,
        },
        "object": {"type": obj[0], "id": obj[1]},
        "period": period,
        "state": state,
        "title": title,
        "text": body,
        "url": scan.base_url + path,
        "data": data,
    }
    return Notice(
        kind=kind,
        subject=subject,
        period=period,
        state=state,
        object_type=obj[0],
        object_id=obj[1],
        party_id=agreement.customer_id,
        agreement=agreement,
        title=title[:300],
        body=body,
        path=path,
        payload=payload,
        created_at=scan.now,
    )


def _result_notice(scan: Scan, result: ComplianceResult, kind: str, state: str) -> Notice:
    objective = result.objective
    facts = {
        "key": result.key,
        "name": objective.name,
        "metric": result.metric,
        "sample_metric": objective.sample_metric,
        "target": str(result.target),
        "comparison": result.comparison,
    }
    facts["target_text"] = objective_target(facts)
    data = {
        "objective": facts,
        "status": result.status,
        "attained": _text(result.attained),
        "attained_text": format_value(result.attained, result.metric, objective.sample_metric),
        "margin": _text(result.margin),
        "margin_text": format_value(result.margin, result.metric, objective.sample_metric),
        "data_points": result.data_points,
        "period_start": result.period_start.isoformat(),
        "period_end": result.period_end.isoformat(),
    }
    agreement = result.agreement
    return _notice(
        scan,
        kind=kind,
        agreement=agreement,
        subject=f"objective:{agreement.pk}:{result.key}",
        period=result.period,
        state=state,
        obj=("compliance_result", result.pk),
        path=reverse("portal:period", args=[agreement.pk, result.period]),
        data=data,
    )


def _results(scan: Scan) -> Iterator[Notice]:
    results = ComplianceResult.objects.select_related("agreement__customer", "objective")
    at_risk = results.filter(
        agreement__in=agreement_list_evaluated().values("pk"),
        status=ResultStatus.PENDING,
        margin__lt=0,
        period_end__gt=scan.now,
    )
    for result in at_risk:
        yield _result_notice(scan, result, NoticeKind.OBJECTIVE_AT_RISK, "at_risk")
    for result in results.filter(status=ResultStatus.MISSED, computed_at__gte=scan.since):
        yield _result_notice(scan, result, NoticeKind.OBJECTIVE_MISSED, "missed")


def _credit_facts(credit: ServiceCredit, amount: Any = None) -> dict[str, Any]:
    amount = credit.amount if amount is None else amount
    return {
        "id": credit.pk,
        "period": credit.period,
        "status": credit.status,
        "percent": str(credit.percent),
        "amount": str(amount),
        "currency": credit.currency,
        "amount_text": format_money(amount, credit.currency),
    }


def _credit_notice(scan: Scan, credit: ServiceCredit, kind: str, state: str, data: dict) -> Notice:
    return _notice(
        scan,
        kind=kind,
        agreement=credit.agreement,
        subject=f"credit:{credit.pk}",
        period=credit.period,
        state=state,
        obj=("service_credit", credit.pk),
        path=reverse("portal:credit", args=[credit.pk]),
        data=data,
    )


def _credits(scan: Scan) -> Iterator[Notice]:
    credits = (
        ServiceCredit.objects.filter(calculated_at__gte=scan.since)
        .exclude(status=CreditStatus.VOID)
        .select_related("agreement__customer")
    )
    for credit in credits:
        data: dict[str, Any] = {"credit": _credit_facts(credit)}
        yield _credit_notice(scan, credit, NoticeKind.CREDIT_CALCULATED, "calculated", data)
    events = (
        CreditEvent.objects.filter(
            at__gte=scan.since, to_status__in=[CreditStatus.DISPUTED, CreditStatus.RESOLVED]
        )
        .exclude(from_status=F("to_status"))  # a note, not a move
        .select_related("credit__agreement__customer")
    )
    for event in events:
        credit = event.credit
        data = {
            "credit": _credit_facts(credit, event.amount),
            "note": event.note,
            "at": event.at.isoformat(),
        }
        if event.to_status == CreditStatus.DISPUTED:
            yield _credit_notice(scan, credit, NoticeKind.DISPUTE_OPENED, "disputed", data)
        else:
            yield _credit_notice(scan, credit, NoticeKind.DISPUTE_RESOLVED, "resolved", data)


def _revisions(scan: Scan) -> Iterator[Notice]:
    awaiting = Revision.objects.filter(
        status=RevisionStatus.APPROVED,
        agreement__requires_acceptance=True,
        agreement__in=agreement_list_evaluated().values("pk"),
    ).select_related("agreement__customer")
    for revision in awaiting:
        agreement = revision.agreement
        data = {
            "revision": {
                "id": revision.pk,
                "number": revision.number,
                "effective_from": revision.effective_from.isoformat(),
                "summary": revision.summary,
                "approved_at": revision.approved_at.isoformat() if revision.approved_at else None,
            }
        }
        yield _notice(
            scan,
            kind=NoticeKind.REVISION_AWAITING_ACCEPTANCE,
            agreement=agreement,
            subject=f"revision:{revision.pk}",
            period="",
            state="approved",
            obj=("revision", revision.pk),
            path=reverse("portal:revision", args=[agreement.pk, revision.number]),
            data=data,
        )


def _reviews(scan: Scan) -> Iterator[Notice]:
    due = agreement_list_evaluated().filter(next_review_on__lte=scan.today)
    for agreement in due.select_related("customer"):
        assert agreement.next_review_on is not None  # filtered
        review_on = agreement.next_review_on.isoformat()
        data = {
            "next_review_on": review_on,
            "review_every_months": agreement.review_every_months,
            "last_reviewed_on": _text(agreement.last_reviewed_on),
        }
        yield _notice(
            scan,
            kind=NoticeKind.REVIEW_DUE,
            agreement=agreement,
            subject=f"agreement:{agreement.pk}",
            period=review_on,
            state="due",
            obj=("agreement", agreement.pk),
            path=reverse("portal:agreement", args=[agreement.pk]),
            data=data,
        )


def notice_candidates(now: datetime) -> list[Notice]:
    """Every notice the current state calls for (unsaved; most exist already)."""
    scan = Scan(
        now=now,
        since=now - LOOKBACK,
        today=timezone.localdate(now, ZoneInfo(tenant_timezone())),
        base_url=tenant_base_url(),
        schema=current_schema(),
    )
    with translation.override(settings.LANGUAGE_CODE):
        return [
            *_results(scan),
            *_credits(scan),
            *_revisions(scan),
            *_reviews(scan),
        ]


def notices_detect(*, now: datetime | None = None) -> int:
    """Record the notices the current state calls for and plan their deliveries.

    Returns the number of notices planned by this call (new ones, and any a
    previous run recorded but did not get to plan).
    """
    now = now or timezone.now()
    notices_record(notice_candidates(now))
    return deliveries_plan(now=now)


def notices_record_history(*, now: datetime | None = None) -> int:
    """For a history loaded in bulk (a provider's import of past months, the demo): record
    the notices the current state calls for, and mark those about periods that ended
    more than LOOKBACK ago as told, without delivering them, so that the first detection
    run does not mail out a year of old misses and credits. Notices about the present (at
    risk, a revision awaiting acceptance, a review due, a period just ended) are left to be
    delivered as usual. Returns the notices marked as history."""
    now = now or timezone.now()
    notices_record(notice_candidates(now))
    cutoff = (now - LOOKBACK).date()
    old = []
    for pk, period in Notice.objects.filter(planned_at__isnull=True).values_list("pk", "period"):
        try:
            ended = parse_period(period).end_day
        except ValueError:  # "" or a review's date: about the present
            continue
        if ended <= cutoff:
            old.append(pk)
    return Notice.objects.filter(pk__in=old).update(planned_at=now)

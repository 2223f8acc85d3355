"""Writes of notifications: record notices once, plan deliveries, claim them, record outcomes.

Every state change of a delivery happens here, in short transactions that never
wait on the network: ``delivery_claim`` commits the claim before anything is sent,
and ``delivery_record_*`` write the outcome only while the claim is still ours (a
worker whose lease lapsed and whose delivery was taken over records nothing).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Q, Value, When

from apps.core.access import ActingUser
from apps.core.history import save_as
from apps.core.services import instance_save
from apps.notifications.models import (
    DUE_STATUSES,
    Channel,
    Delivery,
    DeliveryStatus,
    Notice,
    WebhookEndpoint,
    new_secret,
)
from apps.parties.models import Contact, ContactRole, Party, PartyKind

FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
MAX_ATTEMPTS = 10
# How long a claimed delivery is ours: far above one send (10 s timeout) times a batch.
LEASE = timedelta(minutes=10)
PLAN_BATCH = 500


def notices_record(candidates: Iterable[Notice]) -> int:
    """INSERT … ON CONFLICT DO NOTHING the notices; returns how many were not known before.

    The count skips the keys already stored (read first, to spare the insert); the
    UNIQUE constraint alone decides, so a concurrent run never adds a duplicate.
    """
    candidates = list(candidates)
    if not candidates:
        return 0
    known = set(
        Notice.objects.filter(subject__in={c.subject for c in candidates}).values_list(
            "kind", "subject", "period", "state"
        )
    )
    fresh: dict[tuple[str, str, str, str], Notice] = {}
    for notice in candidates:
        key = (notice.kind, notice.subject, notice.period, notice.state)
        if key not in known:
            fresh.setdefault(key, notice)
    Notice.objects.bulk_create(list(fresh.values()), ignore_conflicts=True)
    return len(fresh)


def party_reach(party_ids: Iterable[int]) -> dict[int, list[int]]:
    """Per party: itself and its ancestors up to (not including) a provider party."""
    rows = {
        pk: (parent, kind)
        for pk, parent, kind in Party.objects.values_list("pk", "parent_id", "kind")
    }
    reach: dict[int, list[int]] = {}
    for party_id in party_ids:
        chain: list[int] = []
        current: int | None = party_id
        while current is not None and current not in chain and current in rows:
            parent, kind = rows[current]
            if kind == PartyKind.PROVIDER:
                break
            chain.append(current)
            current = parent
        reach[party_id] = chain
    return reach


def _targets(
    party_ids: set[int],
) -> dict[int, tuple[list[Contact], list[WebhookEndpoint]]]:
    reach = party_reach(party_ids)
    everyone = {pk for chain in reach.values() for pk in chain}
    contacts: dict[int, list[Contact]] = defaultdict(list)
    for contact in Contact.objects.filter(party_id__in=everyone, role=ContactRole.ESCALATION):
        contacts[contact.party_id].append(contact)
    endpoints: dict[int, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(party_id__in=everyone, active=True):
        endpoints[endpoint.party_id].append(endpoint)
    return {
        party_id: (
            [c for pk in chain for c in contacts[pk]],
            [e for pk in chain for e in endpoints[pk]],
        )
        for party_id, chain in reach.items()
    }


def _deliveries_for(
    notice: Notice, contacts: list[Contact], endpoints: list[WebhookEndpoint], now: datetime
) -> list[Delivery]:
    rows: dict[tuple[str, str], Delivery] = {}
    common = {"notice": notice, "event": notice.kind, "next_attempt_at": now, "created_at": now}
    for contact in contacts:
        key = (Channel.EMAIL, contact.email.strip().lower())
        rows.setdefault(
            key,
            Delivery(
                channel=Channel.EMAIL, target=contact.email.strip(), contact=contact, **common
            ),
        )
    for endpoint in endpoints:
        rows.setdefault(
            (Channel.WEBHOOK, endpoint.url),
            Delivery(channel=Channel.WEBHOOK, target=endpoint.url, endpoint=endpoint, **common),
        )
    return list(rows.values())


def deliveries_plan(*, now: datetime) -> int:
    """Create the deliveries of every notice not yet planned; returns the notices planned.

    Notices are locked with SKIP LOCKED, so concurrent planners split the work, and
    a delivery is unique per notice × channel × target.
    """
    planned = 0
    while True:
        with transaction.atomic():
            notices = list(
                Notice.objects.select_for_update(skip_locked=True)
                .filter(planned_at__isnull=True)
                .order_by("created_at", "pk")[:PLAN_BATCH]
            )
            if not notices:
                return planned
            targets = _targets({notice.party_id for notice in notices})
            rows = [
                row
                for notice in notices
                for row in _deliveries_for(notice, *targets[notice.party_id], now)
            ]
            Delivery.objects.bulk_create(rows, ignore_conflicts=True)
            Notice.objects.filter(pk__in=[n.pk for n in notices]).update(planned_at=now)
        planned += len(notices)
        if len(notices) < PLAN_BATCH:
            return planned


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, at most 6 h."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def _due(now: datetime) -> Q:
    return Q(status__in=DUE_STATUSES, next_attempt_at__lte=now)


def delivery_claim(*, now: datetime, limit: int) -> list[Delivery]:
    """Claim up to ``limit`` due deliveries for this worker and commit the claim.

    SELECT … FOR UPDATE SKIP LOCKED: two workers never claim the same row; the
    claim (status sending, a token, a lease in next_attempt_at, one more attempt)
    is committed before the caller sends anything.
    """
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(_due(now))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        Delivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.SENDING,
            claim=token,
            next_attempt_at=now + LEASE,
            attempts=F("attempts") + 1,
        )
    return list(
        Delivery.objects.filter(pk__in=ids, claim=token)
        .select_related("notice__agreement__provider", "contact", "endpoint")
        .order_by("pk")
    )


def delivery_record_sent(
    delivery: Delivery, *, now: datetime, response_status: int | None = None
) -> bool:
    """Mark a claimed delivery sent (False: the claim was taken over; nothing written)."""
    return bool(
        Delivery.objects.filter(pk=delivery.pk, claim=delivery.claim).update(
            status=DeliveryStatus.SENT,
            sent_at=now,
            next_attempt_at=None,
            claim=None,
            last_error="",
            response_status=response_status,
        )
    )


def delivery_record_failure(
    delivery: Delivery,
    *,
    now: datetime,
    error: str,
    response_status: int | None = None,
    permanent: bool = False,
) -> bool:
    """Record a failed attempt: retry after ``backoff``, or give up (permanent, or too many)."""
    give_up = permanent or delivery.attempts >= MAX_ATTEMPTS
    return bool(
        Delivery.objects.filter(pk=delivery.pk, claim=delivery.claim).update(
            status=DeliveryStatus.GAVE_UP if give_up else DeliveryStatus.FAILED,
            next_attempt_at=None if give_up else now + backoff(delivery.attempts),
            claim=None,
            last_error=error[:2000],
            response_status=response_status,
        )
    )


def deliveries_release(deliveries: Iterable[Delivery], *, now: datetime) -> int:
    """Give back claimed deliveries that were not attempted (the task's time ran out):
    due again now, the attempt not counted. A claim taken over meanwhile is left alone."""
    held = Q()
    for delivery in deliveries:
        held |= Q(pk=delivery.pk, claim=delivery.claim)
    if not held:
        return 0
    return Delivery.objects.filter(held, status=DeliveryStatus.SENDING).update(
        status=Case(
            When(attempts__lte=1, then=Value(DeliveryStatus.PENDING)),
            default=Value(DeliveryStatus.FAILED),
        ),
        attempts=F("attempts") - 1,
        next_attempt_at=now,
        claim=None,
    )


def delivery_next_due() -> datetime | None:
    """When the next delivery (not yet sent, not given up) is due."""
    return (
        Delivery.objects.filter(status__in=DUE_STATUSES)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def deliveries_retry_now(deliveries: Iterable[Delivery], *, now: datetime) -> int:
    """Make failed, given-up or pending deliveries due now (one more attempt each)."""
    return Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries],
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.GAVE_UP],
    ).update(status=DeliveryStatus.PENDING, next_attempt_at=now, claim=None)


def endpoint_test_event(*, endpoint: WebhookEndpoint, now: datetime) -> Delivery:
    """A test delivery to ``endpoint`` (event "test"), due now."""
    return Delivery.objects.create(
        notice=None,
        event="test",
        channel=Channel.WEBHOOK,
        target=endpoint.url,
        endpoint=endpoint,
        next_attempt_at=now,
        created_at=now,
    )


def endpoint_save(
    *, endpoint: WebhookEndpoint | None = None, acting_user: ActingUser, **data: Any
) -> WebhookEndpoint:
    """Create or change an endpoint; the URL must pass ``addresses.url_problem``."""
    return instance_save(instance=endpoint or WebhookEndpoint(), acting_user=acting_user, data=data)


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, acting_user: ActingUser) -> str:
    """Give the endpoint a new secret (the receiver needs it from now on)."""
    endpoint.secret = new_secret()
    save_as(endpoint, acting_user, update_fields=["secret"])
    return endpoint.secret

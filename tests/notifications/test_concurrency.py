"""Two workers dispatching at the same moment send every delivery exactly once.

The workers are threads with their own database connections, so they need
committed rows: the test commits its own notices and deliveries in tenant alpha
(outside any test transaction) and removes them afterwards.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.agreements.models import Agreement
from apps.notifications.delivery import Outcome, dispatch_due
from apps.notifications.models import Channel, Delivery, DeliveryStatus, Notice, WebhookEndpoint
from apps.parties.models import Party, PartyKind
from tests.conftest import TENANT_A
from tests.notifications.conftest import NOW, Receiver, serving

DELIVERIES = 24
WORKERS = 2


def _committed(receiver: Receiver, tag: str) -> list[int]:
    provider = Party.objects.create(name=f"{tag} provider", kind=PartyKind.PROVIDER)
    customer = Party.objects.create(name=f"{tag} customer", kind=PartyKind.CUSTOMER)
    agreement = Agreement.objects.create(
        reference=tag, title=tag, provider=provider, customer=customer, term_start=date(2026, 1, 1)
    )
    endpoint = WebhookEndpoint.objects.create(party=customer, url=receiver.url)
    receiver.secret = endpoint.secret
    notices = Notice.objects.bulk_create(
        Notice(
            kind="review_due",
            subject=f"{tag}:{n}",
            period="",
            state="due",
            object_type="agreement",
            object_id=agreement.pk,
            party=customer,
            agreement=agreement,
            title=f"{tag} {n}",
            body="",
            payload={"event": "review_due", "data": {"n": n}},
            created_at=NOW,
            planned_at=NOW,
        )
        for n in range(DELIVERIES)
    )
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            notice=notice,
            event=notice.kind,
            channel=Channel.WEBHOOK,
            target=endpoint.url,
            endpoint=endpoint,
            next_attempt_at=NOW,
            created_at=NOW,
        )
        for notice in notices
    )
    return [d.pk for d in deliveries]


def _remove(tag: str) -> None:
    Delivery.objects.filter(notice__agreement__reference=tag).delete()
    Notice.objects.filter(agreement__reference=tag).delete()
    WebhookEndpoint.objects.filter(party__name=f"{tag} customer").delete()
    Agreement.objects.filter(reference=tag).delete()
    Party.objects.filter(name__startswith=tag).delete()
    Agreement.history.filter(reference=tag).delete()
    WebhookEndpoint.history.filter(party__name=f"{tag} customer").delete()
    Party.history.filter(name__startswith=tag).delete()


@pytest.fixture(scope="module")
def committed(django_db_setup, django_db_blocker) -> Iterator[tuple[Receiver, list[int]]]:
    """A receiver and the ids of DELIVERIES due deliveries to it, committed; removed after."""
    tag = f"race-{uuid.uuid4().hex[:8]}"
    with serving() as receiver, django_db_blocker.unblock():
        with schema_context(TENANT_A.schema):
            ids = _committed(receiver, tag)
        try:
            yield receiver, ids
        finally:
            with schema_context(TENANT_A.schema):
                _remove(tag)


@pytest.mark.django_db
def test_two_workers_at_once_send_each_delivery_once(committed):
    receiver, ids = committed
    receiver.delay = 0.02  # a slow receiver: the workers' batches overlap in time
    barrier = threading.Barrier(WORKERS)
    outcomes: list[Outcome | BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            with schema_context(TENANT_A.schema):
                outcomes.append(dispatch_due(batch=3))
        except BaseException as exc:  # reported by the assertion below
            outcomes.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(o, Outcome) for o in outcomes), outcomes
    sent = [o.sent for o in outcomes if isinstance(o, Outcome)]
    assert sum(sent) == DELIVERIES and all(sent), sent  # both worked, none sent twice
    assert sorted(int(d) for d in receiver.deliveries) == sorted(ids)
    assert all(r.verified for r in receiver.received)
    with schema_context(TENANT_A.schema):
        rows = Delivery.objects.filter(pk__in=ids)
        assert set(rows.values_list("status", "attempts")) == {(DeliveryStatus.SENT, 1)}

"""Notifications on a real Celery worker: the signed webhook reaches a receiver on
127.0.0.1 that checks the HMAC itself, the escalation e-mail reaches an SMTP server on
127.0.0.1, a failing receiver is tried again with the same delivery id, and a second
detection tells nothing twice. (Backoff timings: tests/notifications/test_webhooks.py.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.calendars.periods import period_containing
from apps.notifications.models import Delivery, DeliveryStatus, WebhookEndpoint
from apps.notifications.tasks import detect_and_dispatch, dispatch
from tests.conftest import TenantInfo, _ensure_tenant, _test_database_url, build_world
from tests.core.processes import celery_env, start_worker, wait_for
from tests.credits.helpers import result
from tests.notifications.conftest import escalation, serving
from tests.reports.mailserver import smtp_server

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

HOOKED = TenantInfo("ntfhook", "Hooked Provider", f"ntfhook.{settings.BASE_DOMAIN}")


def _drop() -> None:
    from apps.tenants.models import Domain, Tenant

    tenant = Tenant.objects.filter(schema_name=HOOKED.schema).first()
    if tenant is not None:
        Domain.objects.filter(tenant=tenant).delete()
        tenant.delete(force_drop=True)


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[tuple]:
    """A tenant whose customer X has an objective at risk in the running month, an
    escalation contact and a webhook endpoint; a receiver, an SMTP server, a worker."""
    assert settings.DATABASES["default"]["NAME"].startswith("test_")
    with serving() as receiver, smtp_server() as (collector, port):
        with django_db_blocker.unblock():
            _drop()
            _ensure_tenant(HOOKED)
            with schema_context(HOOKED.schema):
                world = build_world(HOOKED)
                running = period_containing(timezone.localdate(), "month").label
                made = result(world, status="pending", attained="99.5", period=running)
                made.margin = Decimal("-0.4")  # below 99.9 % so far: at risk
                made.save(update_fields=["margin"])
                escalation(world.party_x, "esc@hooked.example", name="Esc Hooked")
                endpoint = WebhookEndpoint.objects.create(party=world.party_x, url=receiver.url)
                receiver.secret = endpoint.secret
        queue = f"notify-{uuid.uuid4().hex[:8]}"
        env = celery_env(
            _test_database_url(),
            DJANGO_SETTINGS_MODULE="tests.reports.smtp_settings",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(port),
        )
        log_dir = Path(tmp_path_factory.mktemp("notify-worker"))
        worker = start_worker(queue, env, log_dir, pool="prefork", concurrency=2)
        try:
            yield receiver, collector, queue
        finally:
            worker.stop()
            with django_db_blocker.unblock():
                _drop()


def test_a_signed_webhook_and_an_email_once_and_a_failed_post_tried_again(stack):
    receiver, collector, queue = stack
    receiver.statuses = [500]  # the first POST fails

    with schema_context(HOOKED.schema):
        first = detect_and_dispatch.apply_async(queue=queue).get(timeout=60)
    assert first == {"planned": 1, "sent": 1, "failed": 1}  # the e-mail went, the POST not
    wait_for(lambda: len(collector.messages()) == 1, 30, "the escalation e-mail")
    [message] = collector.messages()
    assert message["To"] == "Esc Hooked <esc@hooked.example>"
    assert message["X-SLA-Event"] == "objective_at_risk"

    with schema_context(HOOKED.schema):
        [failed] = Delivery.objects.filter(channel="webhook")
        assert (failed.status, failed.attempts, failed.response_status) == ("failed", 1, 500)
    # The backoff has passed (one minute in production): the next dispatch tries again.
    with psycopg.connect(_test_database_url(), autocommit=True) as conn:
        conn.execute(
            f'UPDATE "{HOOKED.schema}".notifications_delivery '
            "SET next_attempt_at = now() WHERE id = %s",
            [failed.pk],
        )
    with schema_context(HOOKED.schema):
        assert dispatch.apply_async(queue=queue).get(timeout=60) == {"sent": 1, "failed": 0}
        again = detect_and_dispatch.apply_async(queue=queue).get(timeout=60)
        assert again == {"planned": 0, "sent": 0, "failed": 0}  # nothing is told twice
        sent = Delivery.objects.get(pk=failed.pk)
    assert (sent.status, sent.attempts, sent.response_status) == (DeliveryStatus.SENT, 2, 200)

    assert len(receiver.received) == 2 and all(r.verified for r in receiver.received)
    first_post, second_post = receiver.received
    assert first_post.body == second_post.body
    assert first_post.headers["X-SLA-Delivery"] == second_post.headers["X-SLA-Delivery"]
    assert second_post.json["event"] == "objective_at_risk"
    assert second_post.json["tenant"] == HOOKED.schema
    assert len(collector.messages()) == 1

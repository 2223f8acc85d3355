"""Provider admin: endpoints with their secret and a test event, notices, the delivery log."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django_tenants.utils import schema_context

from apps.notifications.detection import notices_detect
from apps.notifications.models import Delivery, DeliveryStatus, Notice, WebhookEndpoint
from apps.parties.services import DOMAIN_APPS, provider_staff_group_ensure
from tests.conftest import TENANT_A
from tests.notifications.conftest import NOW, at_risk_result, escalation

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged(world_a):
    """One notice of X with an e-mail and a webhook delivery (the webhook gave up)."""
    with schema_context(TENANT_A.schema):
        endpoint = WebhookEndpoint.objects.create(
            party=world_a.party_x, url="http://127.0.0.1:9/hook", description="X's ticketing"
        )
        escalation(world_a.party_x, "x-escalation@x.example")
        at_risk_result(world_a)
        notices_detect()
        Delivery.objects.filter(channel="webhook").update(
            status=DeliveryStatus.GAVE_UP, attempts=10, last_error="HTTP 500: boom"
        )
        return endpoint, Notice.objects.get()


def test_the_delivery_log_lists_and_filters_deliveries(admin_client, logged):
    response = admin_client.get("/admin/notifications/delivery/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "x-escalation@x.example" in page and "http://127.0.0.1:9/hook" in page
    assert "HTTP 500: boom" in page
    failed = admin_client.get("/admin/notifications/delivery/?status__exact=gave_up")
    assert "http://127.0.0.1:9/hook" in failed.content.decode()
    assert "x-escalation@x.example" not in failed.content.decode()


def test_a_notice_shows_its_deliveries_and_cannot_be_edited(admin_client, logged):
    _, notice = logged
    response = admin_client.get(f"/admin/notifications/notice/{notice.pk}/change/")
    page = response.content.decode()
    assert response.status_code == 200
    assert notice.title in page and "x-escalation@x.example" in page
    assert 'name="_save"' not in page  # read-only
    assert admin_client.get("/admin/notifications/notice/add/").status_code == 403


def test_retry_now_makes_a_given_up_delivery_due(
    admin_client, logged, django_capture_on_commit_callbacks
):
    with schema_context(TENANT_A.schema):
        delivery = Delivery.objects.get(channel="webhook")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            "/admin/notifications/delivery/",
            {"action": "retry_now", "_selected_action": [delivery.pk]},
        )
    assert response.status_code == 302 and len(callbacks) == 1  # a dispatch after commit
    with schema_context(TENANT_A.schema):
        delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.PENDING, NOW)


def test_the_endpoint_page_shows_the_secret_and_queues_a_test_event(
    admin_client, logged, django_capture_on_commit_callbacks
):
    endpoint, _ = logged
    page = admin_client.get(f"/admin/notifications/webhookendpoint/{endpoint.pk}/change/")
    assert endpoint.secret in page.content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            "/admin/notifications/webhookendpoint/",
            {"action": "send_test_event", "_selected_action": [endpoint.pk]},
        )
    assert response.status_code == 302 and len(callbacks) == 1
    with schema_context(TENANT_A.schema):
        test = Delivery.objects.get(event="test")
    assert (test.endpoint_id, test.notice_id, test.status) == (endpoint.pk, None, "pending")


def test_rotating_the_secret_changes_it_and_keeps_it_out_of_history(admin_client, logged):
    endpoint, _ = logged
    admin_client.post(
        "/admin/notifications/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [endpoint.pk]},
    )
    with schema_context(TENANT_A.schema):
        fresh = WebhookEndpoint.objects.get(pk=endpoint.pk)
        assert fresh.secret != endpoint.secret and len(fresh.secret) == 64
        history_fields = {f.name for f in WebhookEndpoint.history.model._meta.fields}
    assert "secret" not in history_fields


def test_provider_staff_get_the_notification_permissions(world):
    assert "notifications" in DOMAIN_APPS
    group = provider_staff_group_ensure()
    codenames = set(
        group.permissions.filter(content_type__app_label="notifications").values_list(
            "codename", flat=True
        )
    )
    assert {"view_delivery", "change_delivery", "add_webhookendpoint", "view_notice"} <= codenames
    assert Permission.objects.filter(content_type__app_label="notifications").count() == len(
        codenames
    )

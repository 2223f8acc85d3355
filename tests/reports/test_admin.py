"""Provider admin: subscriptions with "send now", the log of runs with their errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.parties.models import Contact, ContactRole
from apps.reports.models import ReportRun, ReportSubscription, RunStatus
from tests.conftest import PASSWORD, TENANT_A, sign_in

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)  # the 2026-11 report of a Berlin subscriber is due


@pytest.fixture(autouse=True)
def _pinned(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def subscription(world_a) -> ReportSubscription:
    with schema_context(TENANT_A.schema):
        contact = Contact.objects.create(
            party=world_a.party_x,
            name="Rita Reports",
            email="rita@x.example",
            role=ContactRole.REPORT_RECIPIENT,
        )
        return ReportSubscription.objects.create(
            party=world_a.party_x, contact=contact, timezone="Europe/Berlin"
        )


def run_of(subscription: ReportSubscription, **fields) -> ReportRun:
    with schema_context(TENANT_A.schema):
        return ReportRun.objects.create(
            subscription=subscription, period="2026-11", lease_until=NOW, **fields
        )


def send_now(client: Client, subscription: ReportSubscription, capture) -> tuple[int, list]:
    with capture(execute=False) as callbacks:
        response = client.post(
            "/admin/reports/reportsubscription/",
            {"action": "send_now", "_selected_action": [subscription.pk]},
            follow=True,
        )
    return response, callbacks


def test_send_now_queues_the_latest_report_after_commit(
    admin_client, subscription, django_capture_on_commit_callbacks
):
    response, callbacks = send_now(admin_client, subscription, django_capture_on_commit_callbacks)
    assert response.status_code == 200 and len(callbacks) == 1
    assert "report 2026-11 queued" in response.content.decode()


def test_send_now_reopens_a_failed_run_and_never_repeats_a_sent_one(
    admin_client, subscription, django_capture_on_commit_callbacks
):
    failed = run_of(subscription, status=RunStatus.FAILED, error="SMTPDataError: 554")
    response, callbacks = send_now(admin_client, subscription, django_capture_on_commit_callbacks)
    assert len(callbacks) == 1
    with schema_context(TENANT_A.schema):
        failed.refresh_from_db()
        assert (failed.status, failed.lease_until) == (RunStatus.SENDING, NOW)  # claimable

        ReportRun.objects.filter(pk=failed.pk).update(status=RunStatus.SENT, sent_at=NOW)
    response, callbacks = send_now(admin_client, subscription, django_capture_on_commit_callbacks)
    assert callbacks == []
    assert "was sent already" in response.content.decode()


def test_the_run_log_shows_errors_and_sends_failed_runs_again(
    admin_client, subscription, django_capture_on_commit_callbacks
):
    failed = run_of(subscription, status=RunStatus.FAILED, error="SMTPRecipientsRefused: 550")
    page = admin_client.get("/admin/reports/reportrun/?status__exact=failed").content.decode()
    assert "SMTPRecipientsRefused: 550" in page and "rita@x.example" in page
    assert admin_client.get("/admin/reports/reportrun/add/").status_code == 403

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(
            "/admin/reports/reportrun/",
            {"action": "send_again", "_selected_action": [failed.pk]},
        )
    assert len(callbacks) == 1
    with schema_context(TENANT_A.schema):
        assert ReportRun.objects.get(pk=failed.pk).status == RunStatus.SENDING


def test_customers_and_other_tenants_do_not_reach_the_report_admin(
    subscription, client_a, client_b
):
    for client in (client_a, client_b):  # anonymous on A; B has its own admin and data
        response = client.get("/admin/reports/reportsubscription/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    sign_in(client_a, "customer_x_alpha")
    response = client_a.get("/admin/reports/reportsubscription/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client_b.post(
        "/admin/login/", {"username": "admin_beta", "password": PASSWORD, "next": "/admin/"}
    )
    page = client_b.get("/admin/reports/reportsubscription/").content.decode()
    assert "rita@x.example" not in page  # tenant A's subscriber
    missing = client_b.get(f"/admin/reports/reportsubscription/{subscription.pk}/change/")
    assert missing.status_code in (302, 404)

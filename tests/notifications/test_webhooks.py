"""Webhooks against a real receiver on 127.0.0.1 that checks every signature itself."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from apps.notifications.delivery import BODY_KEYS, dispatch_due
from apps.notifications.detection import notices_detect
from apps.notifications.models import Delivery, DeliveryStatus, Notice, WebhookEndpoint
from apps.notifications.services import endpoint_save, endpoint_test_event
from apps.notifications.signing import signature_verify
from tests.notifications.conftest import NOW, at_risk_result, escalation

pytestmark = pytest.mark.django_db


def hooked(world, receiver, **options) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(party=world.party_x, url=receiver.url, **options)
    receiver.secret = endpoint.secret
    return endpoint


def several_notices(world) -> None:
    """At risk (X), a revision awaiting acceptance (X), and a review due (Y)."""
    from apps.revisions.services import revision_approve, revision_create

    at_risk_result(world)
    revision = revision_create(
        agreement=world.agreement_x,
        acting_user=world.manager,
        effective_from=NOW.date().replace(day=1),
    )
    revision_approve(revision=revision, acting_user=world.manager)
    type(world.agreement_y).objects.filter(pk=world.agreement_y.pk).update(
        next_review_on=NOW.date()
    )


def test_each_notice_of_the_party_is_posted_once_signed_with_the_endpoint_secret(world, receiver):
    endpoint = hooked(world, receiver)
    other = WebhookEndpoint.objects.create(party=world.party_y, url=receiver.url + "/y")
    receiver.secrets["/hooks/sla/y"] = other.secret
    several_notices(world)
    notices_detect()

    assert dispatch_due().sent == 3  # two to X's endpoint, one to Y's
    assert dispatch_due().sent == 0 and notices_detect() == 0

    assert all(r.verified for r in receiver.received)  # the receiver's own HMAC check
    x_requests = [r for r in receiver.received if r.path == "/hooks/sla"]
    [y_request] = [r for r in receiver.received if r.path == "/hooks/sla/y"]
    assert y_request.json["event"] == "review_due"
    assert y_request.json["party"]["id"] == world.party_y.pk
    x_notices = Notice.objects.filter(party=world.party_x)
    assert sorted(r.json["id"] for r in x_requests) == sorted(n.pk for n in x_notices)
    assert len(set(receiver.deliveries)) == 3  # one request per delivery
    for request in x_requests:
        body, headers = request.json, request.headers
        assert list(body) == list(BODY_KEYS)
        assert headers["X-SLA-Event"] == body["event"]
        assert headers["X-SLA-Delivery"] == str(body["delivery"])
        assert headers["Content-Type"] == "application/json"
        assert body["party"] == {"id": world.party_x.pk, "name": world.party_x.name}
        assert signature_verify(
            endpoint.secret,
            headers["X-SLA-Timestamp"],
            request.body,
            headers["X-SLA-Signature"],
            now=NOW.timestamp(),
        )
    events = sorted(r.json["event"] for r in x_requests)
    assert events == ["objective_at_risk", "revision_awaiting_acceptance"]
    assert Delivery.objects.filter(status=DeliveryStatus.SENT, response_status=200).count() == 3


def test_a_500_is_retried_after_the_backoff_then_delivered(world, receiver, time_machine):
    hooked(world, receiver)
    receiver.statuses = [500]
    at_risk_result(world)
    notices_detect()

    outcome = dispatch_due()
    delivery = Delivery.objects.get()
    assert (outcome.sent, outcome.failed) == (0, 1)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.FAILED,
        1,
        500,
    )
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1)
    assert outcome.next_due == delivery.next_attempt_at
    assert delivery.last_error.startswith("HTTP 500")

    assert dispatch_due().sent == 0  # not due yet
    assert len(receiver.received) == 1
    time_machine.move_to(NOW + timedelta(minutes=1))
    assert dispatch_due().sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.SENT,
        2,
        200,
    )
    assert delivery.sent_at == NOW + timedelta(minutes=1) and delivery.last_error == ""
    first, second = receiver.received
    assert first.body == second.body  # the same document on every attempt
    assert first.headers["X-SLA-Delivery"] == second.headers["X-SLA-Delivery"]
    assert int(second.headers["X-SLA-Timestamp"]) == int(first.headers["X-SLA-Timestamp"]) + 60


def test_a_wrong_secret_fails_verification_at_the_receiver(world, receiver):
    hooked(world, receiver)
    receiver.secret = "not-the-endpoint-secret"
    at_risk_result(world)
    notices_detect()

    assert dispatch_due().failed == 1
    [request] = receiver.received
    assert request.verified is False
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.response_status) == (DeliveryStatus.FAILED, 401)


def test_a_refused_connection_is_retried(world):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    WebhookEndpoint.objects.create(party=world.party_x, url=f"http://127.0.0.1:{port}/hook")
    at_risk_result(world)
    notices_detect()
    assert dispatch_due().failed == 1
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "ConnectionError" in delivery.last_error
    assert delivery.response_status is None


def test_an_inactive_endpoint_gets_nothing_and_one_deactivated_later_gives_up(world, receiver):
    endpoint = hooked(world, receiver)
    WebhookEndpoint.objects.create(party=world.party_x, url=receiver.url + "/off", active=False)
    escalation(world.party_x, "x@x.example")
    at_risk_result(world)
    notices_detect()
    assert Delivery.objects.filter(channel="webhook").count() == 1
    endpoint.active = False
    endpoint.save()
    dispatch_due()
    assert Delivery.objects.get(channel="webhook").status == DeliveryStatus.GAVE_UP
    assert receiver.received == []


def test_a_test_event_is_signed_and_logged(world, receiver):
    endpoint = hooked(world, receiver)
    endpoint_test_event(endpoint=endpoint, now=NOW)
    assert dispatch_due().sent == 1
    [request] = receiver.received
    assert request.verified and request.headers["X-SLA-Event"] == "test"
    body = request.json
    assert (body["event"], body["id"], body["agreement"], body["data"]) == ("test", None, None, {})
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_redirects_are_not_followed(world, receiver):
    hooked(world, receiver)
    receiver.statuses = [302]
    at_risk_result(world)
    notices_detect()
    assert dispatch_due().failed == 1
    assert Delivery.objects.get().response_status == 302


def test_private_addresses_and_plain_http_are_refused_unless_local_is_allowed(
    world, settings, monkeypatch
):
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_LOCAL = False
    for url in (
        "http://hooks.example.com/sla",
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",
    ):
        with pytest.raises(ValidationError):
            endpoint_save(acting_user=world.admin, party=world.party_x, url=url)
    endpoint = endpoint_save(
        acting_user=world.admin, party=world.party_x, url="https://93.184.215.14/hook"
    )
    assert len(endpoint.secret) == 64  # generated

    # A name that resolves to a private address (now) is refused before sending.
    def resolve(host, port, *args, **kwargs):
        assert host == "hooks.example.com"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://hooks.example.com/hook")
    at_risk_result(world)
    notices_detect()
    dispatch_due()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.response_status is None
    assert "private" in delivery.last_error

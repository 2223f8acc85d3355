"""Deliveries: who is told (escalation contacts of the party and its groups, never another
customer's, never another tenant's), the e-mail they get, retries, backoff and giving up."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from apps.notifications.delivery import dispatch_due
from apps.notifications.detection import notices_detect
from apps.notifications.models import Channel, Delivery, DeliveryStatus, Notice, WebhookEndpoint
from apps.notifications.services import MAX_ATTEMPTS, backoff
from apps.parties.models import PartyKind
from apps.revisions.services import revision_approve, revision_create
from tests.conftest import TENANT_A, TENANT_B, agreement_for
from tests.factories import PartyFactory
from tests.notifications.conftest import NOW, at_risk_result, escalation

pytestmark = pytest.mark.django_db


def risk_for_x_and_review_for_y(world) -> None:
    at_risk_result(world)
    type(world.agreement_y).objects.filter(pk=world.agreement_y.pk).update(
        next_review_on=NOW.date()
    )


def test_escalation_contacts_of_the_party_get_one_mail_each_and_nobody_else(world, contacts):
    del contacts  # X and Y each have an escalation contact and X a report recipient
    risk_for_x_and_review_for_y(world)
    assert notices_detect() == 2
    assert notices_detect() == 0

    targets = sorted(Delivery.objects.values_list("event", "channel", "target"))
    assert targets == [
        ("objective_at_risk", Channel.EMAIL, "x-escalation@x.example"),
        ("review_due", Channel.EMAIL, "y-escalation@y.example"),
    ]  # not the report recipient of X; X's notice never to Y and Y's never to X

    outcome = dispatch_due()
    assert (outcome.sent, outcome.failed, outcome.next_due) == (2, 0, None)
    assert dispatch_due().sent == 0  # sent once
    by_to = {message.to[0]: message for message in mail.outbox}
    assert set(by_to) == {
        "Xavier Esc <x-escalation@x.example>",
        "Yvonne Esc <y-escalation@y.example>",
    }
    message = by_to["Xavier Esc <x-escalation@x.example>"]
    assert message.subject == (
        f"[{world.provider.name}] {world.agreement_x.reference}: availability at risk in 2026-10"
    )
    assert "99.5 %" in message.body and "≥ 99.9 %" in message.body
    assert message.from_email.startswith(f"{world.provider.name} <")  # as its reports
    html = message.alternatives[0][0]
    url = f"https://{TENANT_A.host}/agreements/{world.agreement_x.pk}/periods/2026-10/"
    assert url in message.body and url in html
    assert world.agreement_y.reference not in message.body + html
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    delivery = Delivery.objects.get(target="x-escalation@x.example")
    assert (delivery.status, delivery.attempts, delivery.sent_at) == (DeliveryStatus.SENT, 1, NOW)


def test_a_groups_contacts_hear_of_its_subsidiaries_but_not_the_other_way(world):
    subsidiary = PartyFactory(name="X Germany", parent=world.party_x)
    finance = PartyFactory(name="Finance", kind=PartyKind.INTERNAL, parent=world.provider)
    escalation(world.party_x, "group@x.example")
    escalation(subsidiary, "de@x.example")
    escalation(finance, "finance@p.example")
    escalation(world.provider, "provider@p.example")  # above an internal department: never
    sub_agreement = agreement_for(world, "X-DE", "service", customer=subsidiary)
    internal = agreement_for(world, "FIN", "service", customer=finance)
    for agreement in (world.agreement_x, sub_agreement, internal):
        revision = revision_create(
            agreement=agreement, acting_user=world.manager, effective_from=NOW.date().replace(day=1)
        )
        revision_approve(revision=revision, acting_user=world.manager)

    notices_detect()

    told = set(Delivery.objects.values_list("notice__agreement__reference", "target"))
    assert told == {
        (world.agreement_x.reference, "group@x.example"),
        ("X-DE", "group@x.example"),
        ("X-DE", "de@x.example"),
        ("FIN", "finance@p.example"),
    }


def test_the_same_address_twice_in_the_reach_is_mailed_once(world):
    subsidiary = PartyFactory(name="X Austria", parent=world.party_x)
    escalation(world.party_x, "Same@x.example")
    escalation(subsidiary, "same@x.example")
    agreement = agreement_for(world, "X-AT", "service", customer=subsidiary)
    revision = revision_create(
        agreement=agreement, acting_user=world.manager, effective_from=NOW.date().replace(day=1)
    )
    revision_approve(revision=revision, acting_user=world.manager)
    notices_detect()
    assert Delivery.objects.filter(notice__agreement=agreement).count() == 1


def test_tenant_b_never_sees_tenant_a_notices(world_a, world_b):
    with schema_context(TENANT_A.schema):
        at_risk_result(world_a)
        escalation(world_a.party_x, "a@x.example")
        assert notices_detect() == 1
    with schema_context(TENANT_B.schema):
        escalation(world_b.party_x, "b@x.example")
        assert not Notice.objects.exists() and not Delivery.objects.exists()
        assert notices_detect() == 0  # B's state has nothing to tell
        dispatch_due()
    assert mail.outbox == []
    with schema_context(TENANT_A.schema):
        dispatch_due()
    assert [m.to for m in mail.outbox] == [["Esc Contact <a@x.example>"]]


def test_a_refused_recipient_gives_up_and_a_down_server_retries_with_backoff(
    world, contacts, monkeypatch, time_machine
):
    at_risk_result(world)
    notices_detect()

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"x-escalation@x.example": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    assert dispatch_due().failed == 1
    delivery = Delivery.objects.get()
    assert (
        delivery.status == DeliveryStatus.GAVE_UP and "SMTPRecipientsRefused" in delivery.last_error
    )
    assert delivery.next_attempt_at is None

    def down(self, *args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    Delivery.objects.update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=NOW)
    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", down)
    assert dispatch_due().failed == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1)
    monkeypatch.undo()
    time_machine.move_to(NOW + timedelta(minutes=1))
    assert dispatch_due().sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert len(mail.outbox) == 1


def test_backoff_doubles_up_to_six_hours_and_gives_up_after_the_last_attempt(
    world, receiver, time_machine
):
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(9) == timedelta(minutes=256) and backoff(12) == timedelta(hours=6)
    endpoint = WebhookEndpoint.objects.create(party=world.party_x, url=receiver.url)
    receiver.secret = endpoint.secret
    receiver.statuses = [503] * MAX_ATTEMPTS
    at_risk_result(world)
    notices_detect()
    moment = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert dispatch_due().failed == 1
        delivery = Delivery.objects.get()
        assert delivery.attempts == attempt and delivery.response_status == 503
        if attempt < MAX_ATTEMPTS:
            assert delivery.status == DeliveryStatus.FAILED
            assert delivery.next_attempt_at == moment + backoff(attempt)
            moment = delivery.next_attempt_at
            time_machine.move_to(moment)
    assert delivery.status == DeliveryStatus.GAVE_UP and delivery.next_attempt_at is None
    assert dispatch_due().failed == 0 and len(receiver.received) == MAX_ATTEMPTS


def test_when_the_time_budget_is_spent_the_claimed_rest_is_given_back_uncounted(world, receiver):
    """A dispatch stops within its budget (the task's time limit must not cut a send off);
    the deliveries it had claimed but not attempted are due again, their attempt not
    counted, and the next dispatch sends them."""
    for n in range(3):
        endpoint = WebhookEndpoint.objects.create(party=world.party_x, url=f"{receiver.url}/{n}")
        receiver.secrets[f"/hooks/sla/{n}"] = endpoint.secret
    at_risk_result(world)
    notices_detect()
    receiver.delay = 0.3  # each answer takes longer than the whole budget

    outcome = dispatch_due(budget=timedelta(seconds=0.1))
    assert (outcome.sent, outcome.failed) == (1, 0) and len(receiver.received) == 1
    assert sorted(Delivery.objects.values_list("status", "attempts", "claim")) == [
        (DeliveryStatus.PENDING, 0, None),
        (DeliveryStatus.PENDING, 0, None),
        (DeliveryStatus.SENT, 1, None),
    ]
    assert outcome.next_due == NOW  # due again at once

    assert dispatch_due().sent == 2
    assert all(r.verified for r in receiver.received) and len(receiver.received) == 3


def test_a_programming_error_is_not_retried_but_recorded(world, receiver, monkeypatch):
    """A bug (here: building the body fails) would fail every attempt alike: given up at
    once with the error in the delivery log, never ten times over six hours."""
    endpoint = WebhookEndpoint.objects.create(party=world.party_x, url=receiver.url)
    receiver.secret = endpoint.secret
    at_risk_result(world)
    notices_detect()

    def broken(delivery):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    monkeypatch.setattr("apps.notifications.delivery.webhook_body", broken)
    assert dispatch_due().failed == 1
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.GAVE_UP and delivery.next_attempt_at is None
    assert "Not retried, an error in the product: TypeError" in delivery.last_error
    assert receiver.received == []


def test_an_endpoint_that_does_not_resolve_is_retried(world, monkeypatch):
    endpoint = WebhookEndpoint.objects.create(
        party=world.party_x, url="https://hooks.nowhere.invalid/sla"
    )
    assert endpoint.pk
    at_risk_result(world)
    notices_detect()
    monkeypatch.setattr("django.conf.settings.NOTIFICATIONS_WEBHOOK_ALLOW_LOCAL", False)

    assert dispatch_due().failed == 1
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is not None
    assert "WebhookUnreachable" in delivery.last_error

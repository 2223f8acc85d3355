"""Report e-mails: content, exactly-once runs (claims, leases, retries), command, unsubscribe."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation
from django.utils.html import escape
from django_tenants.utils import schema_context

from apps.calendars.periods import parse_period
from apps.compliance.evaluation import evaluate_period
from apps.parties.models import Contact, ContactRole
from apps.reports.emails import attachment_note, subscription_from_token, unsubscribe_token
from apps.reports.models import ReportRun, ReportSubscription, RunStatus
from apps.reports.services import lease, run_claim, run_send, runs_due, subscription_save
from tests.conftest import TENANT_A, TENANT_B

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)  # after the 1 December 07:00 slot in Berlin


@pytest.fixture(autouse=True)
def _pinned(time_machine):
    time_machine.move_to(NOW, tick=False)


def subscribe(world, email: str = "reports@x.example", **options) -> ReportSubscription:
    contact = Contact.objects.create(
        party=world.party_x, name="Rita Reports", email=email, role=ContactRole.REPORT_RECIPIENT
    )
    return ReportSubscription.objects.create(
        party=world.party_x, contact=contact, timezone="Europe/Berlin", **options
    )


@pytest.fixture
def subscribed(world_a):
    with schema_context(TENANT_A.schema):
        evaluate_period(agreements=[world_a.agreement_x], period=parse_period("2026-11"), now=NOW)
        return world_a, subscribe(world_a)


def test_the_report_mail_carries_the_period_links_pdf_and_unsubscribe(subscribed):
    world, subscription = subscribed
    with schema_context(TENANT_A.schema):
        assert run_send(subscription, "2026-11") == "sent"

    [message] = mail.outbox
    assert message.to == ["reports@x.example"]
    assert "2026-11" in message.subject
    html = message.alternatives[0][0]
    assert world.agreement_x.reference in message.body and world.agreement_x.reference in html
    assert world.agreement_y.reference not in message.body + html  # another customer's
    period_url = f"/agreements/{world.agreement_x.pk}/periods/2026-11/"
    assert f"://{TENANT_A.host}{period_url}" in html  # on the tenant's own host
    [(name, pdf, kind)] = message.attachments
    assert name == f"{world.agreement_x.reference}-2026-11.pdf" and kind == "application/pdf"
    assert pdf.startswith(b"%PDF")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/reports/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    with schema_context(TENANT_A.schema):
        run = ReportRun.objects.get()
    assert run.status == RunStatus.SENT and run.message_id == message.extra_headers["Message-ID"]


def test_a_second_send_of_the_same_period_sends_nothing(subscribed):
    _, subscription = subscribed
    with schema_context(TENANT_A.schema):
        assert run_send(subscription, "2026-11") == "sent"
        assert run_send(subscription, "2026-11") == "held"
        assert runs_due(NOW) == []
    assert len(mail.outbox) == 1


def test_a_live_claim_holds_off_others_and_a_lapsed_one_is_taken_over(subscribed):
    _, subscription = subscribed
    with schema_context(TENANT_A.schema):
        first = run_claim(subscription, "2026-11", NOW)
        assert first is not None
        assert run_claim(subscription, "2026-11", NOW + lease() - timedelta(seconds=1)) is None
        assert runs_due(NOW) == []  # claimed and alive: not due again
        later = NOW + lease() + timedelta(seconds=1)
        assert runs_due(later) == [(subscription.pk, "2026-11")]  # the sweeper's view
        second = run_claim(subscription, "2026-11", later)
        assert second is not None and second.claim != first.claim and second.attempts == 2
        # The first worker, back from the dead, may not record anything any more.
        assert not ReportRun.objects.filter(pk=first.pk, claim=first.claim).exists()


def test_permanent_refusal_fails_the_run_and_a_transient_error_lets_it_lapse(
    subscribed, monkeypatch
):
    _, subscription = subscribed

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"reports@x.example": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with schema_context(TENANT_A.schema):
        assert run_send(subscription, "2026-11") == "failed"
        run = ReportRun.objects.get()
        assert run.status == RunStatus.FAILED and "SMTPRecipientsRefused" in run.error
        assert runs_due(NOW + timedelta(hours=1)) == []  # not retried by itself

    def disconnect(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", disconnect)
    with schema_context(TENANT_A.schema):
        ReportRun.objects.all().delete()
        with pytest.raises(smtplib.SMTPServerDisconnected):  # the task retries it
            run_send(subscription, "2026-11")
        run = ReportRun.objects.get()
        assert run.status == RunStatus.SENDING and run.lease_until <= NOW
        assert runs_due(NOW) == [(subscription.pk, "2026-11")]
    monkeypatch.undo()
    with schema_context(TENANT_A.schema):
        assert run_send(subscription, "2026-11") == "sent"
        assert ReportRun.objects.get().attempts == 2
    assert len(mail.outbox) == 1


def test_an_inactive_subscription_or_one_without_agreements_sends_nothing(world_a):
    with schema_context(TENANT_A.schema):
        subscription = subscribe(world_a, active=False)
        assert run_send(subscription, "2026-11") == "inactive"
        subscription.active = True
        subscription.save()
        world_a.agreement_x.status = "terminated"
        world_a.agreement_x.save()
        assert run_send(subscription, "2026-11") == "skipped"
        assert ReportRun.objects.get().status == RunStatus.SKIPPED
    assert mail.outbox == []


def test_send_reports_twice_sends_once_and_only_its_tenants_data(subscribed, world_b, capsys):
    with schema_context(TENANT_B.schema):
        subscribe(world_b, email="b-reports@x.example")

    call_command("send_reports", tenant=TENANT_A.schema, no_progress=True)
    call_command("send_reports", tenant=TENANT_A.schema, no_progress=True)
    call_command("send_reports", tenant=TENANT_B.schema, no_progress=True, dry_run=True)

    output = capsys.readouterr().out
    assert "1 sent" in output and "1 already sent, 0 to send" in output
    assert "would send 2026-11 to b-reports@x.example" in output
    assert [m.to for m in mail.outbox] == [["reports@x.example"]]
    assert world_b.agreement_x.reference not in mail.outbox[0].body


def test_one_click_unsubscribe_stops_the_subscription(subscribed, client_a):
    _, subscription = subscribed
    with schema_context(TENANT_A.schema):
        token = unsubscribe_token(subscription)
    url = f"/reports/unsubscribe/{token}/"

    assert client_a.get(url).status_code == 200
    assert client_a.post(url).status_code == 200  # no session, no CSRF token: RFC 8058
    assert client_a.get(f"/reports/unsubscribe/{token}x/").status_code == 404
    with schema_context(TENANT_A.schema):
        subscription.refresh_from_db()
        assert not subscription.active
        assert run_send(subscription, "2026-11") == "inactive"


def test_a_german_subscriber_gets_a_german_mail(subscribed):
    _, subscription = subscribed
    with schema_context(TENANT_A.schema):
        subscription.language = "de"
        subscription.save()
        run_send(subscription, "2026-11")
    html = mail.outbox[0].alternatives[0][0]
    assert '<html lang="de">' in html
    assert "Im Portal öffnen" in html or "Zeitraum im Portal öffnen" in html


def test_a_4xx_for_every_recipient_is_retried_and_a_bug_fails_the_run_for_good(
    subscribed, monkeypatch
):
    _, subscription = subscribed

    def busy(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"reports@x.example": (452, b"mailbox full")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", busy)
    with schema_context(TENANT_A.schema):
        with pytest.raises(smtplib.SMTPRecipientsRefused):  # the task retries it
            run_send(subscription, "2026-11")
        run = ReportRun.objects.get()
        assert run.status == RunStatus.SENDING and run.lease_until <= NOW  # free to take
        assert runs_due(NOW) == [(subscription.pk, "2026-11")]

    def broken(self, *args, **kwargs):
        raise TypeError("a programming error")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
    with schema_context(TENANT_A.schema):
        with pytest.raises(TypeError):  # logged by the worker, not retried
            run_send(subscription, "2026-11")
        run = ReportRun.objects.get()
        assert run.status == RunStatus.FAILED and run.error == "TypeError: a programming error"
        assert runs_due(NOW + timedelta(days=1)) == []  # waits for "send now"
    assert mail.outbox == []


def test_send_reports_refuses_a_bad_period_and_fails_when_a_report_was_not_sent(
    subscribed, monkeypatch, capsys
):
    for bad in ("2026-13", "2026-W54", "November"):
        with pytest.raises(CommandError, match=r"is not (a period|an ISO week)"):
            call_command("send_reports", tenant=TENANT_A.schema, period=bad, no_progress=True)
    with pytest.raises(CommandError, match="No tenant"):
        call_command("send_reports", tenant="nope", no_progress=True)

    def down(self, *args, **kwargs):
        raise smtplib.SMTPConnectError(421, b"closing")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", down)
    with pytest.raises(CommandError, match="1 not sent; run it again"):
        call_command("send_reports", tenant=TENANT_A.schema, period="2026-11", no_progress=True)
    assert "2026-11 to reports@x.example: SMTPConnectError" in capsys.readouterr().err
    monkeypatch.undo()
    call_command("send_reports", tenant=TENANT_A.schema, period="2026-11", no_progress=True)
    assert "1 sent" in capsys.readouterr().out and len(mail.outbox) == 1


def test_the_lease_outlasts_a_live_task_and_lapses_before_the_broker_redelivers():
    """A live worker never loses its claim (the task is killed at its hard limit first);
    a dead worker's message, redelivered after the visibility timeout, finds the claim
    lapsed and takes it over; the sweeper catches what the broker does not bring back."""
    seconds = lease().total_seconds()
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_TASK_TIME_LIMIT < seconds < visibility
    sweep = settings.CELERY_BEAT_SCHEDULE["reports-sweep-every-5-minutes"]["schedule"]
    assert seconds + sweep <= 10 * 60


def test_a_user_may_subscribe_only_to_the_reports_of_a_party_they_may_see(world_a):
    with schema_context(TENANT_A.schema):
        with pytest.raises(ValidationError) as refused:
            subscription_save(
                acting_user=world_a.admin, party=world_a.party_x, user=world_a.customer_y
            )
        assert "user" in refused.value.message_dict  # Y's viewer must not get X's figures
        assert not ReportSubscription.objects.exists()
        mine = subscription_save(
            acting_user=world_a.admin, party=world_a.party_x, user=world_a.customer_x
        )
        assert mine.pk


def test_an_unsubscribe_token_names_its_tenant(subscribed, world_b):
    _, subscription = subscribed
    with schema_context(TENANT_A.schema):
        token = unsubscribe_token(subscription)
        assert subscription_from_token(token) == subscription.pk
    with schema_context(TENANT_B.schema):
        assert subscription_from_token(token) is None  # the same id there is another's


@pytest.mark.parametrize(
    ("language", "pdf", "csv", "sentence", "kinds"),
    [
        (
            "de",
            True,
            True,
            "Der Bericht ist als PDF-Datei angehängt, seine Zahlen als CSV-Datei.",
            ["application/pdf", "text/csv"],
        ),
        ("de", False, True, "Die Zahlen des Berichts sind als CSV-Datei angehängt.", ["text/csv"]),
        ("en", True, False, "The report is attached as a PDF file.", ["application/pdf"]),
        ("en", False, True, "The report's figures are attached as a CSV file.", ["text/csv"]),
        ("en", False, False, None, []),
    ],
)
def test_the_mail_names_what_is_attached(subscribed, language, pdf, csv, sentence, kinds):
    _, subscription = subscribed
    with schema_context(TENANT_A.schema):
        subscription.language, subscription.attach_pdf, subscription.attach_csv = (
            language,
            pdf,
            csv,
        )
        subscription.save()
        assert run_send(subscription, "2026-11") == "sent"

    [message] = mail.outbox
    assert [kind for _name, _content, kind in message.attachments] == kinds
    html = message.alternatives[0][0]
    if sentence:
        assert sentence in message.body and escape(sentence) in html
    for text in (message.body, html):
        if not sentence:
            assert "angehängt" not in text and "attached" not in text
        if not pdf:
            assert "PDF" not in text
        if not csv:
            assert "CSV" not in text


def test_the_attachment_sentence_counts_the_agreements():
    assert attachment_note(3, 3) == (
        "The reports of the 3 agreements are attached as PDF files, their figures as CSV files."
    )
    assert attachment_note(2, 0) == "The reports of the 2 agreements are attached as PDF files."
    assert attachment_note(0, 2) == (
        "The figures of the 2 agreements' reports are attached as CSV files."
    )
    assert attachment_note(0, 0) == ""
    with translation.override("de"):
        assert attachment_note(2, 2) == (
            "Die Berichte der 2 Vereinbarungen sind als PDF-Dateien angehängt, "
            "ihre Zahlen als CSV-Dateien."
        )

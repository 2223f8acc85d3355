"""Sending reports exactly once: claim a run, send, record — and subscriptions' writes.

The run row (unique per subscription × period) is claimed in its own transaction
before anything is sent; the claim carries a token and a lease. Only the worker
holding the token sends and marks the run sent. A worker that dies leaves a claim
whose lease runs out; the sweeper (and the broker's redelivery of the task) take it
over. Every attempt of a run uses the same Message-ID.

The lease (``settings.REPORTS_LEASE_SECONDS``, 200 s) outlasts the task's hard time
limit (180 s), so a live worker never loses its claim, and it lapses before the
broker hands a dead worker's message to another worker (visibility timeout 280 s):
that redelivery, or the sweeper (every 5 minutes), takes the run over.

Failures: a transient one (connection refused or dropped, SMTP 4xx: apps.core.jobs)
gives the claim back at once and lets the task retry with backoff; a permanent
refusal (SMTP 5xx) or any other error (a programming error) marks the run failed
with the error, for the admin's "send now" after a fix: never retried by itself.

What "exactly once" cannot cover: a worker killed in the moment between the SMTP
server accepting the message and the run being marked sent would, on takeover,
send again (with the same Message-ID). Everything before that moment — rendering,
the PDF, connecting, the SMTP dialogue up to the final dot — is safe to repeat.
"""

from __future__ import annotations

import contextlib
import smtplib
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.core.access import ActingUser, is_provider_staff
from apps.core.history import save_as
from apps.core.jobs import is_transient
from apps.core.services import instance_save
from apps.reports.emails import message_id, report_message, subscription_agreements
from apps.reports.models import ReportRun, ReportSubscription, RunStatus
from apps.reports.schedule import Due, due_from_label, latest_due

DEFAULT_LEASE_SECONDS = 200


def lease() -> timedelta:
    """How long a claim is the claiming worker's (tests shorten it through the setting)."""
    return timedelta(seconds=getattr(settings, "REPORTS_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


def send_failure_is_transient(exc: BaseException) -> bool:
    """A failure that a later try can get past: connection errors and SMTP 4xx replies,
    also when the server refused every recipient with a 4xx (RFC 5321 §4.2.1)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    return is_transient(exc)


def subscription_save(
    *, subscription: ReportSubscription | None = None, acting_user: ActingUser, **data: Any
) -> ReportSubscription:
    if acting_user is not None and not is_provider_staff(acting_user):
        raise PermissionDenied("Only provider staff may set up report subscriptions.")
    return instance_save(
        instance=subscription or ReportSubscription(), acting_user=acting_user, data=data
    )


def subscription_stop(*, subscription: ReportSubscription, acting_user: ActingUser) -> None:
    """Unsubscribe (from the e-mail's link or the portal): no further reports."""
    if subscription.active:
        subscription.active = False
        save_as(subscription, acting_user, update_fields=["active"])


def subscription_due(subscription: ReportSubscription, now: datetime) -> Due:
    return latest_due(
        frequency=subscription.frequency,
        send_day=subscription.send_day,
        send_hour=subscription.send_hour,
        timezone=subscription.timezone,
        now=now,
    )


def run_reopen(
    *, subscription: ReportSubscription, label: str, acting_user: ActingUser, now: datetime
) -> ReportRun | None:
    """Make the report of ``label`` sendable by hand ("send now"): a failed or skipped run
    is reopened for the next claim. Returns the run as it stands (None: not claimed yet);
    a sent run stays sent, and a live claim stays its worker's."""
    if acting_user is not None and not is_provider_staff(acting_user):
        raise PermissionDenied("Only provider staff may send reports by hand.")
    with transaction.atomic():
        run = (
            ReportRun.objects.select_for_update()
            .filter(subscription=subscription, period=label)
            .first()
        )
        if run is not None and run.status in (RunStatus.FAILED, RunStatus.SKIPPED):
            run.status = RunStatus.SENDING
            run.lease_until = now
            run.save(update_fields=["status", "lease_until"])
    return run


def run_claim(subscription: ReportSubscription, label: str, now: datetime) -> ReportRun | None:
    """Claim the run of ``label`` for this worker, or None when it is sent, skipped or
    held by another worker whose lease has not run out."""
    with transaction.atomic():
        run, created = ReportRun.objects.select_for_update().get_or_create(
            subscription=subscription,
            period=label,
            defaults={"lease_until": now + lease(), "recipient": subscription.recipient},
        )
        if created:
            return run
        if run.status in (RunStatus.SENT, RunStatus.SKIPPED):
            return None
        if run.status == RunStatus.SENDING and run.lease_until > now:
            return None
        run.claim = uuid.uuid4()
        run.status = RunStatus.SENDING
        run.lease_until = now + lease()
        run.attempts += 1
        run.error = ""
        run.save(update_fields=["claim", "status", "lease_until", "attempts", "error"])
        return run


def _finish(run: ReportRun, **fields: Any) -> bool:
    """Record the outcome if the claim is still ours (True), else leave it alone."""
    return bool(ReportRun.objects.filter(pk=run.pk, claim=run.claim).update(**fields))


def _give_back(run: ReportRun, exc: BaseException) -> None:
    """Record a failed attempt: a transient one lets the claim lapse now (a retry takes
    it over at once), any other fails the run. With the database gone, the lease lapses
    by itself."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    with contextlib.suppress(DatabaseError):
        if send_failure_is_transient(exc):
            _finish(run, lease_until=timezone.now(), error=error)
        else:
            _finish(run, status=RunStatus.FAILED, error=error)


def run_send(subscription: ReportSubscription, label: str, *, now: datetime | None = None) -> str:
    """Claim and send the run of ``label``; returns what happened: sent, skipped, failed
    (refused for good by the SMTP server), held (sent already, or another worker's) or
    inactive. A transient failure is raised (the task retries it); so is a programming
    error, after the run was marked failed."""
    now = now or timezone.now()
    if not subscription.active:
        return "inactive"
    run = run_claim(subscription, label, now)
    if run is None:
        return "held"
    try:
        agreements = subscription_agreements(subscription)
        if not agreements or not subscription.recipient:
            reason = "no agreements to report on" if not agreements else "no e-mail address"
            _finish(run, status=RunStatus.SKIPPED, error=reason)
            return "skipped"
        message = report_message(
            subscription, due_from_label(subscription.frequency, label), run, agreements=agreements
        )
        if not ReportRun.objects.filter(
            pk=run.pk, claim=run.claim, status=RunStatus.SENDING
        ).exists():
            return "held"  # taken over while we rendered (our lease ran out)
        message.send()
    except Exception as exc:
        _give_back(run, exc)
        if isinstance(exc, smtplib.SMTPException) and not send_failure_is_transient(exc):
            return "failed"  # refused for good: the admin shows why
        raise
    _finish(
        run,
        status=RunStatus.SENT,
        sent_at=timezone.now(),
        message_id=message_id(run),
        recipient=subscription.recipient,
        error="",
    )
    return "sent"


def runs_due(now: datetime) -> list[tuple[int, str]]:
    """(subscription id, period label) of every report due now: the latest slot of each
    active subscription without a run (a failed run is retried only by hand), and runs
    whose claim has lapsed."""
    subscriptions = list(ReportSubscription.objects.filter(active=True))
    dues = {s.pk: subscription_due(s, now).label for s in subscriptions}
    done = set(
        ReportRun.objects.filter(subscription__in=dues)
        .exclude(status=RunStatus.SENDING, lease_until__lte=now)
        .values_list("subscription_id", "period")
    )
    found = [(pk, label) for pk, label in dues.items() if (pk, label) not in done]
    return sorted(set(found) | set(runs_lapsed(now)))


def runs_lapsed(now: datetime) -> list[tuple[int, str]]:
    """Runs claimed by a worker that did not finish within its lease (it died)."""
    return list(
        ReportRun.objects.filter(
            status=RunStatus.SENDING, lease_until__lte=now, subscription__active=True
        ).values_list("subscription_id", "period")
    )

"""Sending: claim due deliveries, send each with no transaction open, record the outcome.

E-mail goes through Django's mail backend (text + HTML); webhooks through
``requests`` with a signed JSON body (``signing``), to public https addresses only
(``addresses``), without following redirects. Only a 2xx answer counts as sent.
"""

from __future__ import annotations

import json
import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr
from typing import Any

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from apps.core.jobs import is_transient
from apps.core.mail import sender
from apps.core.tenancy import current_schema
from apps.notifications.addresses import url_problem
from apps.notifications.detection import PAYLOAD_VERSION
from apps.notifications.models import Channel, Delivery, Notice
from apps.notifications.services import (
    deliveries_release,
    delivery_claim,
    delivery_next_due,
    delivery_record_failure,
    delivery_record_sent,
)
from apps.notifications.signing import signed_headers
from apps.notifications.texts import notice_texts
from apps.tenants.selectors import tenant_base_url

log = logging.getLogger(__name__)

TIMEOUT = (5, 10)  # seconds to connect, seconds between bytes of the answer
BATCH = 10
# Then the task stops and a follow-up sends the rest: one more attempt (at most
# TIMEOUT, about 15 s) must still end within the task's soft time limit (150 s).
BUDGET = timedelta(seconds=90)
# The SMTP server refused this message for good: sending it again fails again.
PERMANENT_SMTP = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


class Permanent(Exception):
    """A failure that a retry cannot mend."""


class WebhookUnreachable(Exception):
    """The endpoint's address cannot be used right now (it does not resolve, or resolves
    to a private address); the provider may fix it, so it is retried."""


class WebhookRefused(Exception):
    """The receiver answered, but not with a 2xx."""

    def __init__(self, status: int, answer: str) -> None:
        super().__init__(f"HTTP {status}: {answer}".strip())
        self.status = status


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    next_due: datetime | None = None


# The body's keys in the documented order (the stored payload is jsonb, which reorders).
BODY_KEYS = (
    "version",
    "id",
    "delivery",
    "event",
    "created_at",
    "tenant",
    "party",
    "agreement",
    "object",
    "period",
    "state",
    "title",
    "text",
    "url",
    "data",
)


def webhook_document(delivery: Delivery) -> dict[str, Any]:
    """The JSON document of a webhook delivery (see the package docstring)."""
    notice = delivery.notice
    head = {
        "version": PAYLOAD_VERSION,
        "id": notice.pk if notice else None,
        "delivery": delivery.pk,
    }
    if notice is not None:
        found = {**notice.payload, **head}
        return {**{key: found[key] for key in BODY_KEYS if key in found}, **found}
    endpoint = delivery.endpoint
    title, text = notice_texts("test", "", "", {})
    return {
        **head,
        "event": "test",
        "created_at": delivery.created_at.isoformat(),
        "tenant": current_schema(),
        "party": {"id": endpoint.party_id, "name": endpoint.party.name} if endpoint else None,
        "agreement": None,
        "object": None,
        "period": "",
        "state": "test",
        "title": title,
        "text": text,
        "url": tenant_base_url() + "/",
        "data": {},
    }


def webhook_body(delivery: Delivery) -> bytes:
    document = webhook_document(delivery)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# What a later attempt can get past: the receiver or the mail server out of reach or
# slow, an address that does not resolve (yet), a mail server's other failures.
RETRYABLE: tuple[type[BaseException], ...] = (
    requests.RequestException,
    OSError,
    smtplib.SMTPException,
    WebhookUnreachable,
)


def _send_webhook(delivery: Delivery) -> int:
    endpoint = delivery.endpoint
    if endpoint is None or not endpoint.active:
        raise Permanent("The endpoint was removed or deactivated.")
    problem = url_problem(endpoint.url, resolve=True)
    if problem:
        raise WebhookUnreachable(problem)
    body = webhook_body(delivery)
    headers = signed_headers(
        secret=endpoint.secret,
        body=body,
        event=delivery.event,
        delivery_id=delivery.pk,
        timestamp=int(time.time()),
    )
    response = requests.post(
        endpoint.url,
        data=body,
        headers=headers,
        timeout=TIMEOUT,
        allow_redirects=False,
        stream=True,
    )
    try:
        if 200 <= response.status_code < 300:
            return response.status_code
        answer = response.raw.read(300, decode_content=True) or b""
        raise WebhookRefused(response.status_code, answer.decode("utf-8", "replace"))
    finally:
        response.close()


def notice_email(delivery: Delivery, notice: Notice) -> EmailMultiAlternatives:
    """The e-mail of one notice to one contact, in the site's language (text and HTML)."""
    base = tenant_base_url()
    agreement = notice.agreement
    name = delivery.contact.name if delivery.contact else ""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "notice": notice,
            "title": notice.title,
            "text": notice.body,
            "url": base + notice.path if notice.path else base + "/",
            "provider": agreement.provider.name,
            "agreement": agreement,
            "name": name,
        }
        text = render_to_string("notifications/email/notice.txt", context)
        html = render_to_string("notifications/email/notice.html", context)
    to = formataddr((name, delivery.target)) if name else delivery.target
    message = EmailMultiAlternatives(
        subject=" ".join(f"[{agreement.provider.name}] {notice.title}".split()),
        body=text,
        from_email=sender(agreement.provider.name),
        to=[to],
        headers={
            "Message-ID": f"<notice-{notice.pk}-{delivery.pk}@{settings.BASE_DOMAIN}>",
            "Auto-Submitted": "auto-generated",
            "X-SLA-Event": notice.kind,
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def _send_email(delivery: Delivery) -> None:
    if delivery.notice is None:
        raise Permanent("An e-mail delivery needs a notice.")
    try:
        notice_email(delivery, delivery.notice).send()
    except PERMANENT_SMTP as exc:
        raise Permanent(f"{type(exc).__name__}: {exc}") from exc


def deliver(delivery: Delivery) -> bool:
    """Send one claimed delivery and record what happened; True when it was sent."""
    status: int | None = None
    try:
        if delivery.channel == Channel.EMAIL:
            _send_email(delivery)
        else:
            status = _send_webhook(delivery)
    except Permanent as exc:
        delivery_record_failure(delivery, now=timezone.now(), error=str(exc), permanent=True)
        return False
    except WebhookRefused as exc:
        delivery_record_failure(
            delivery, now=timezone.now(), error=str(exc), response_status=exc.status
        )
        return False
    except RETRYABLE as exc:  # connection refused, timeout, DNS, SMTP down: retry later
        log.info("delivery %s failed: %s", delivery.pk, exc)
        delivery_record_failure(delivery, now=timezone.now(), error=f"{type(exc).__name__}: {exc}")
        return False
    except Exception as exc:
        if is_transient(exc):  # e.g. the database, while reading what to send
            log.info("delivery %s failed: %s", delivery.pk, exc)
            error = f"{type(exc).__name__}: {exc}"
            delivery_record_failure(delivery, now=timezone.now(), error=error)
            return False
        # A programming error: the same attempt would fail again. Given up at once, with
        # the error in the delivery log (admin) and the traceback in the server's log.
        log.exception("delivery %s: not retried, an error in the product", delivery.pk)
        error = f"Not retried, an error in the product: {type(exc).__name__}: {exc}"
        delivery_record_failure(delivery, now=timezone.now(), error=error, permanent=True)
        return False
    delivery_record_sent(delivery, now=timezone.now(), response_status=status)
    return True


def dispatch_due(*, batch: int = BATCH, budget: timedelta = BUDGET) -> Outcome:
    """Send every due delivery of the current tenant, a claimed batch at a time.

    Stops when nothing is due or the time budget is spent; ``next_due`` says when
    the next delivery (a retry, or the rest of a long queue) is due.
    """
    outcome = Outcome()
    deadline = time.monotonic() + budget.total_seconds()
    while time.monotonic() < deadline:
        claimed = delivery_claim(now=timezone.now(), limit=batch)
        if not claimed:
            break
        for index, delivery in enumerate(claimed):
            if time.monotonic() >= deadline:
                deliveries_release(claimed[index:], now=timezone.now())
                break
            if deliver(delivery):
                outcome.sent += 1
            else:
                outcome.failed += 1
    outcome.next_due = delivery_next_due()
    return outcome

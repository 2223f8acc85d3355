"""Notices (a change of state, once per subject × period × state), their deliveries, endpoints.

See the package docstring (``apps/notifications/__init__.py``) for the flow, the
dedupe key and the webhook contract.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.notifications.addresses import url_problem


class NoticeKind(models.TextChoices):
    OBJECTIVE_AT_RISK = "objective_at_risk", _("Objective at risk")
    OBJECTIVE_MISSED = "objective_missed", _("Objective missed")
    CREDIT_CALCULATED = "credit_calculated", _("Service credit calculated")
    REVISION_AWAITING_ACCEPTANCE = (
        "revision_awaiting_acceptance",
        _("Revision awaiting acceptance"),
    )
    REVIEW_DUE = "review_due", _("Review due")
    DISPUTE_OPENED = "dispute_opened", _("Dispute opened")
    DISPUTE_RESOLVED = "dispute_resolved", _("Dispute resolved")


class Notice(models.Model):
    """One change of state of one object, for the customer party of its agreement.

    Unique per (kind, subject, period, state): detection inserts with ON CONFLICT
    DO NOTHING, so however often (or concurrently) it runs, a state is told once.
    """

    kind = models.CharField(max_length=32, choices=NoticeKind.choices)
    subject = models.CharField(
        max_length=100, help_text="The object: objective:<agreement>:<key>, credit:<id>, …"
    )
    period = models.CharField(max_length=10, blank=True, help_text="2026-10, 2026-Q4, a date or ''")
    state = models.CharField(max_length=16)
    object_type = models.CharField(max_length=32)
    object_id = models.PositiveBigIntegerField()
    party = models.ForeignKey(
        "parties.Party", on_delete=models.CASCADE, related_name="notices", editable=False
    )
    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.CASCADE, related_name="notices", editable=False
    )
    title = models.CharField(max_length=300)
    body = models.TextField()
    path = models.CharField(max_length=300, blank=True, help_text="The portal page to open.")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    planned_at = models.DateTimeField(
        null=True, blank=True, help_text="When its deliveries were planned."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject", "period", "state"], name="notice_once_per_state"
            )
        ]
        indexes = [
            models.Index(fields=["party", "-created_at"], name="notice_party_recent_idx"),
            models.Index(
                fields=["created_at"], condition=Q(planned_at__isnull=True), name="notice_unplanned"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Gave up")


# Statuses that are sent when next_attempt_at has come (sending: a lapsed claim).
DUE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.SENDING)


def new_secret() -> str:
    return secrets.token_hex(32)


def validate_webhook_url(value: str) -> None:
    problem = url_problem(value, resolve=False)
    if problem:
        raise ValidationError(problem)


class WebhookEndpoint(models.Model):
    """A URL of the provider's choosing that receives a party's notices, signed with ``secret``."""

    party = models.ForeignKey(
        "parties.Party", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500, validators=[validate_webhook_url])
    secret = models.CharField(
        max_length=128,
        default=new_secret,
        editable=False,
        help_text="Key of the HMAC-SHA256 signature (X-SLA-Signature); give it to the receiver.",
    )
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The secret stays out of the history tables.
    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
        ordering = ["party", "url"]

    def __str__(self) -> str:
        return f"{self.party}: {self.url}"


class Delivery(models.Model):
    """One notice to one target over one channel, with every attempt's outcome."""

    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=32, help_text="The notice's kind, or 'test'.")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    target = models.CharField(max_length=500, help_text="E-mail address or URL.")
    contact = models.ForeignKey(
        "parties.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "channel", "target"],
                condition=Q(notice__isnull=False),
                name="delivery_once_per_target",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                # OR-ed equalities, not IN: their definition survives the tenant
                # cloner's catalog round trip (pg_get_indexdef) unchanged.
                condition=Q(status="pending") | Q(status="failed") | Q(status="sending"),
                name="delivery_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.target} ({self.status})"

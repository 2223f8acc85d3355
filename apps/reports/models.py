"""Report subscriptions and the runs that send them, exactly once per subscription × period."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.calendars.models import validate_timezone
from apps.parties.selectors import party_ids_visible_to


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")


class ReportSubscription(models.Model):
    """Who receives the reports of a party's agreements, how often, when and in which form.

    The subscriber is a contact of the party or a user (exactly one). Reports go out
    on ``send_day`` (weekly: the weekday, 0 = Monday; monthly and quarterly: the day of
    the month after the period) at ``send_hour`` in the subscriber's ``timezone``.
    """

    party = models.ForeignKey(
        "parties.Party", on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    contact = models.ForeignKey(
        "parties.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
    )
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    send_day = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(28)],
        help_text=_("Weekly: weekday (0 = Monday). Monthly/quarterly: day of the month (1-28)."),
    )
    send_hour = models.PositiveSmallIntegerField(
        default=7, validators=[MaxValueValidator(23)], help_text=_("Local hour, 0-23.")
    )
    timezone = models.CharField(
        max_length=64, default="Europe/Berlin", validators=[validate_timezone]
    )
    language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES)
    attach_pdf = models.BooleanField(default=True)
    attach_csv = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["party", "frequency", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False, user__isnull=True)
                | Q(contact__isnull=True, user__isnull=False),
                name="subscription_one_subscriber",
                violation_error_message="Subscribe either a contact or a user.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} report of {self.party} to {self.recipient}"

    @property
    def recipient(self) -> str:
        if self.contact_id and self.contact:
            return self.contact.email
        return self.user.email if self.user else ""

    @property
    def recipient_name(self) -> str:
        if self.contact is not None:
            return self.contact.name
        return self.user.get_full_name() or self.user.get_username() if self.user else ""

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.frequency == Frequency.WEEKLY and self.send_day > 6:
            errors["send_day"] = "A weekly report goes out on a weekday: 0 (Monday) to 6."
        if self.frequency != Frequency.WEEKLY and self.send_day < 1:
            errors["send_day"] = "A monthly or quarterly report goes out on day 1 to 28."
        if (
            self.contact_id
            and self.party_id
            and self.contact
            and self.contact.party_id != self.party_id
        ):
            errors["contact"] = "The contact belongs to another party."
        if self.user_id and self.party_id and self.user is not None:
            visible = party_ids_visible_to(self.user)
            if visible is not None and self.party_id not in visible:
                errors["user"] = "This user may not see this party's data."
        if errors:
            raise ValidationError(errors)


class RunStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class ReportRun(models.Model):
    """One report of one subscription for one period: claimed, then sent (exactly once).

    The row is created (claimed) before anything is sent and is unique per subscription
    and period; a worker owns it while ``claim`` is its token and ``lease_until`` lies
    ahead. A claim left by a dead worker expires and is taken over by the sweeper.
    """

    subscription = models.ForeignKey(
        ReportSubscription, on_delete=models.CASCADE, related_name="runs"
    )
    period = models.CharField(max_length=8, help_text="2026-11, 2026-Q4 or 2026-W48")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.SENDING)
    claim = models.UUIDField(default=uuid.uuid4)
    lease_until = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=1)
    message_id = models.CharField(max_length=200, blank=True)
    recipient = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period"], name="report_run_once_per_period"
            )
        ]
        indexes = [models.Index(fields=["status", "lease_until"], name="report_run_lease_idx")]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.period}: {self.status}"

"""Measurement data from other systems: tickets (with pauses), outages, samples.

Rows are upserted by ``external_id`` (the id in the system they come from);
they carry no row history (the source system has it, and ingestion must stay
fast), but every exclusion decision is kept in ExclusionEvent.
``customer`` is optional: a measurement without one counts for every agreement
covering its service; with one, only for that customer's agreements (and
those of its parent companies).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Exclusion(models.Model):
    """Fields of a measurement a provider may exclude from compliance, with a reason."""

    excluded = models.BooleanField(default=False)
    exclusion_reason = models.TextField(blank=True)
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    excluded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Ticket(Exclusion):
    # Unique through Meta.constraints, not unique=True: that would add a second,
    # varchar_pattern_ops index for LIKE, and each index costs bulk ingestion time.
    external_id = models.CharField(max_length=128)
    service = models.ForeignKey(
        "agreements.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,  # ticket_service_opened_idx (service, opened_at) serves it
    )
    customer = models.ForeignKey(
        "parties.Party", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    priority = models.CharField(max_length=16, blank=True)
    opened_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    contacts = models.PositiveIntegerField(
        default=1, help_text="Customer contacts needed; 1 = resolved at first contact."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["opened_at"], name="ticket_opened_idx"),
            models.Index(fields=["closed_at"], name="ticket_closed_idx"),
            models.Index(fields=["service", "opened_at"], name="ticket_service_opened_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="ticket_external_id_unique"),
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True)
                | Q(first_response_at__gte=F("opened_at")),
                name="ticket_response_after_open",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("opened_at")),
                name="ticket_resolved_after_open",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="ticket_closed_after_open",
            ),
        ]

    def __str__(self) -> str:
        return f"ticket {self.external_id}"


class PauseReason(models.TextChoices):
    WAITING_CUSTOMER = "waiting_customer", _("Waiting on customer")
    WAITING_THIRD_PARTY = "waiting_third_party", _("Waiting on third party")
    OTHER = "other", _("Other agreed pause")


class TicketPause(models.Model):
    """The SLA clock stops while the provider waits on someone else."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="pauses")
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True, help_text="Empty while still paused.")
    reason = models.CharField(
        max_length=32, choices=PauseReason.choices, default=PauseReason.WAITING_CUSTOMER
    )

    class Meta:
        ordering = ["ticket", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=F("start")), name="pause_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"pause {self.start}–{self.end or '…'}"


class OutageKind(models.TextChoices):
    UNPLANNED = "unplanned", _("Unplanned")
    PLANNED = "planned", _("Planned maintenance")


class OutageCause(models.TextChoices):
    PROVIDER = "provider", _("Provider")
    CUSTOMER = "customer", _("Customer")
    THIRD_PARTY = "third_party", _("Third party")


class Outage(Exclusion):
    external_id = models.CharField(max_length=128, unique=True)
    service = models.ForeignKey(
        "agreements.Service", on_delete=models.PROTECT, related_name="outages"
    )
    customer = models.ForeignKey(
        "parties.Party", null=True, blank=True, on_delete=models.PROTECT, related_name="outages"
    )
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True, help_text="Empty while ongoing.")
    kind = models.CharField(max_length=16, choices=OutageKind.choices, default=OutageKind.UNPLANNED)
    cause = models.CharField(
        max_length=16, choices=OutageCause.choices, default=OutageCause.PROVIDER
    )
    description = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start"]
        indexes = [models.Index(fields=["service", "start"], name="outage_service_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=F("start")),
                name="outage_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"outage {self.external_id}"


class Sample(models.Model):
    """One observation of a custom metric (latency in ms, CSAT score, files processed, …)."""

    external_id = models.CharField(max_length=128, unique=True)
    service = models.ForeignKey(
        "agreements.Service", on_delete=models.PROTECT, related_name="samples"
    )
    customer = models.ForeignKey(
        "parties.Party", null=True, blank=True, on_delete=models.PROTECT, related_name="samples"
    )
    metric = models.CharField(max_length=63)
    at = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["metric", "service", "at"], name="sample_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.metric}={self.value} @ {self.at}"


class ExclusionEvent(models.Model):
    """Customer-visible record of a provider excluding (or reinstating) a measurement."""

    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="exclusion_events"
    )
    outage = models.ForeignKey(
        Outage, null=True, blank=True, on_delete=models.CASCADE, related_name="exclusion_events"
    )
    excluded = models.BooleanField(help_text="True: excluded; False: counted again.")
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ticket__isnull=False, outage__isnull=True)
                | Q(ticket__isnull=True, outage__isnull=False),
                name="exclusion_event_one_target",
            ),
        ]

    def __str__(self) -> str:
        target = self.ticket or self.outage
        return f"{'excluded' if self.excluded else 'reinstated'} {target} by {self.by}"

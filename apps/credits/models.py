"""Service credits: what an agreement owes its customer for a period, and the steps of its life."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.core.money import format_money_local
from apps.revisions.models import Revision


class CreditStatus(models.TextChoices):
    CALCULATED = "calculated", _("Calculated")
    APPROVED = "approved", _("Approved")
    ISSUED = "issued", _("Issued")
    DISPUTED = "disputed", _("Disputed")
    RESOLVED = "resolved", _("Resolved")
    VOID = "void", _("Void")


# Allowed moves: from -> {to: who may do it}. "provider" = provider manager,
# "customer" = a manager of the agreement's customer.
TRANSITIONS: dict[str, dict[str, set[str]]] = {
    CreditStatus.CALCULATED: {
        CreditStatus.APPROVED: {"provider"},
        CreditStatus.DISPUTED: {"customer"},
        CreditStatus.VOID: {"provider"},
    },
    CreditStatus.APPROVED: {
        CreditStatus.ISSUED: {"provider"},
        CreditStatus.DISPUTED: {"customer"},
        CreditStatus.VOID: {"provider"},
    },
    CreditStatus.DISPUTED: {CreditStatus.RESOLVED: {"provider"}, CreditStatus.VOID: {"provider"}},
    CreditStatus.RESOLVED: {CreditStatus.ISSUED: {"provider"}},
    CreditStatus.ISSUED: {},
    CreditStatus.VOID: {},
}
# A credit is open while it can still move (issued and void are final).
OPEN_STATUSES = frozenset(status for status, moves in TRANSITIONS.items() if moves)


class ServiceCredit(models.Model):
    """What an agreement owes its customer for one period, and why."""

    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.PROTECT, related_name="credits"
    )
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="credits")
    period = models.CharField(max_length=7)
    percent = models.DecimalField(max_digits=6, decimal_places=2)
    uncapped_percent = models.DecimalField(max_digits=8, decimal_places=2)
    cap_percent = models.DecimalField(max_digits=6, decimal_places=2)
    fee_basis = models.DecimalField(
        max_digits=14, decimal_places=3, help_text="Monthly fee × months in the period."
    )
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=CreditStatus.choices, default=CreditStatus.CALCULATED
    )
    objectives = models.JSONField(default=list, help_text="The missed objectives that earned it.")
    resolution = models.TextField(blank=True)
    calculated_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-period", "agreement"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "period"], name="credit_agreement_period_unique"
            ),
        ]

    def __str__(self) -> str:
        """E.g. "X-1 2026-10: 1,200.00 EUR (disputed)" (the admin's titles and messages)."""
        amount = format_money_local(self.amount, self.currency)
        return f"{self.agreement.reference} {self.period}: {amount} ({self.status})"


class CreditEvent(models.Model):
    """One step of a credit's life: who moved it, when, from where to where, and why."""

    credit = models.ForeignKey(ServiceCredit, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    note = models.TextField(blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["credit", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.credit_id}: {self.from_status or '∅'} → {self.to_status}"


class PeriodClose(models.Model):
    """A period of an agreement closed after its grace window: results final, credit settled.

    One row per agreement × period (unique), so closing twice settles once.
    """

    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.PROTECT, related_name="closed_periods"
    )
    period = models.CharField(max_length=7)
    closed_at = models.DateTimeField()
    results = models.PositiveIntegerField(default=0)
    credit = models.ForeignKey(
        ServiceCredit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-closed_at"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "period"], name="period_close_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.period} closed {self.closed_at:%Y-%m-%d}"

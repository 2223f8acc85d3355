"""Compliance results per objective and period, and the adjustments made after closing."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ResultStatus(models.TextChoices):
    MET = "met", _("Met")
    MISSED = "missed", _("Missed")
    NO_DATA = "no_data", _("No data")
    PENDING = "pending", _("Pending")


class ComplianceResult(models.Model):
    """Attainment of one effective objective of one agreement in one period.

    ``objective`` is the objective in force (possibly inherited from a parent
    agreement); ``key`` is kept so results survive a change of revision.
    """

    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.PROTECT, related_name="compliance_results"
    )
    objective = models.ForeignKey(
        "revisions.Objective", on_delete=models.PROTECT, related_name="results"
    )
    revision = models.ForeignKey(
        "revisions.Revision",
        on_delete=models.PROTECT,
        related_name="results",
        help_text="The revision that defines the objective.",
    )
    key = models.CharField(max_length=63)
    metric = models.CharField(max_length=32)
    period = models.CharField(max_length=7, help_text="2026-10 or 2026-Q4")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    target = models.DecimalField(max_digits=14, decimal_places=4)
    comparison = models.CharField(max_length=3)
    attained = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    margin = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    status = models.CharField(max_length=8, choices=ResultStatus.choices)
    data_points = models.PositiveIntegerField(default=0)
    detail = models.JSONField(default=dict, blank=True)
    inherited = models.BooleanField(default=False)
    computed_at = models.DateTimeField()
    final = models.BooleanField(default=False)

    class Meta:
        ordering = ["agreement", "period", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "key", "period"], name="result_agreement_key_period_unique"
            ),
        ]
        indexes = [models.Index(fields=["period", "status"], name="result_period_status_idx")]

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.key} {self.period}: {self.status}"


class ComplianceAdjustment(models.Model):
    """A change to a final result found by a later evaluation: recorded, never silently applied."""

    result = models.ForeignKey(
        ComplianceResult, on_delete=models.CASCADE, related_name="adjustments"
    )
    old_attained = models.DecimalField(max_digits=20, decimal_places=4, null=True)
    new_attained = models.DecimalField(max_digits=20, decimal_places=4, null=True)
    old_status = models.CharField(max_length=8)
    new_status = models.CharField(max_length=8)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"adjustment of {self.result}: {self.old_status} → {self.new_status}"

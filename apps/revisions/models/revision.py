"""Revisions: the numbered, immutable versions of an agreement's text and measures.

A revision is written as a draft, approved by a provider manager and, when the
agreement requires it, accepted by a customer manager. Once approved its
content can never change: ``save``/``delete`` refuse, and database triggers
(migration 0002) refuse raw SQL too. Only the status columns move on
(approved → accepted → superseded).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.agreements.models import Agreement
from apps.core.validators import validate_date_in_range


class RevisionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    ACCEPTED = "accepted", _("Accepted")
    SUPERSEDED = "superseded", _("Superseded")


class SectionKey(models.TextChoices):
    OVERVIEW = "overview", _("Overview")
    SERVICES = "services", _("Services and exclusions")
    PROVIDER_RESPONSIBILITIES = "provider_responsibilities", _("Responsibilities of the provider")
    CUSTOMER_RESPONSIBILITIES = "customer_responsibilities", _("Responsibilities of the customer")
    ESCALATION = "escalation", _("Escalation procedure")
    REMEDIES = "remedies", _("Remedies and service credits")
    INDEMNIFICATION = "indemnification", _("Indemnification")
    REPORTING = "reporting", _("Reporting")
    REVIEW = "review", _("Review")


# Set by the workflow (numbering, approval, acceptance, supersession), never edited.
# Of these, only status/accepted_*/superseded_* may still change once a revision is
# approved; migration 0002's trigger lists them.
LIFECYCLE_FIELDS = (
    "number",
    "status",
    "created_from",
    "approved_by",
    "approved_at",
    "accepted_by",
    "accepted_at",
    "accepted_from",
    "superseded_at",
    "superseded_by_number",
)


class RevisionLockedError(ValidationError):
    """An approved revision (or something hanging off it) was about to change."""

    def __init__(
        self,
        message: str = "An approved revision cannot be changed; "
        "create a new draft from it instead.",
    ):
        super().__init__(message, code="revision_locked")


class Revision(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(editable=False)
    status = models.CharField(
        max_length=16,
        choices=RevisionStatus.choices,
        default=RevisionStatus.DRAFT,
        editable=False,
    )
    effective_from = models.DateField(
        validators=[validate_date_in_range],
        help_text="First day of the first reporting period this revision governs.",
    )
    summary = models.CharField(max_length=300, blank=True, help_text="What changed, in a line.")
    credit_cap_percent = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal("100"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Credits per period never exceed this share of the monthly fee.",
    )
    created_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_from = models.GenericIPAddressField(
        null=True, blank=True, editable=False, help_text="The address the acceptance came from."
    )
    superseded_at = models.DateTimeField(null=True, blank=True, editable=False)
    superseded_by_number = models.PositiveIntegerField(null=True, blank=True, editable=False)
    history = HistoricalRecords()
    # Set by the workflow (apps.revisions.services) while it moves the status on.
    _status_change: bool = False

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="revision_number_unique"),
            models.UniqueConstraint(
                fields=["agreement"],
                condition=models.Q(status="draft"),
                name="revision_one_draft_per_agreement",
                violation_error_message="This agreement already has a draft revision.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement.reference} rev. {self.number} ({self.get_status_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == RevisionStatus.DRAFT

    @property
    def is_binding(self) -> bool:
        """Approved, and accepted where the agreement requires acceptance."""
        if self.approved_at is None:
            return False
        return not self.agreement.requires_acceptance or self.accepted_at is not None

    def clean(self) -> None:
        if self.effective_from and self.effective_from.day != 1:
            raise ValidationError(
                {"effective_from": "Must be the first day of a month (the start of a period)."}
            )

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._status_change:
            stored = Revision.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored is not None and stored != RevisionStatus.DRAFT:
                raise RevisionLockedError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != RevisionStatus.DRAFT:
            raise RevisionLockedError("An approved revision cannot be deleted.")
        return super().delete(*args, **kwargs)


class LockedWithRevision(models.Model):
    """Base for rows that belong to a revision and freeze with it."""

    class Meta:
        abstract = True

    def _revision_locked(self) -> bool:
        revision_id = getattr(self, "revision_id", None)
        if revision_id is None:
            return False
        status = Revision.objects.filter(pk=revision_id).values_list("status", flat=True).first()
        return status is not None and status != RevisionStatus.DRAFT

    def save(self, *args, **kwargs) -> None:
        if self._revision_locked():
            raise RevisionLockedError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._revision_locked():
            raise RevisionLockedError()
        return super().delete(*args, **kwargs)


class RevisionSection(LockedWithRevision):
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(max_length=32, choices=SectionKey.choices)
    body = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["revision", "key"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "key"], name="section_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.revision} — {self.get_key_display()}"

"""Agreements between a provider and a customer (or an internal department), at three tiers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.calendars.models import Calendar
from apps.core.currencies import CURRENCY_CHOICES, MINOR_UNITS
from apps.core.money import has_minor_unit_digits
from apps.core.validators import validate_date_in_range
from apps.parties.models import Party, PartyKind
from apps.parties.selectors import party_descendant_ids


class Service(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgreementKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer SLA")
    INTERNAL = "internal", _("Internal SLA")


class Tier(models.TextChoices):
    CORPORATE = "corporate", _("Corporate level")
    CUSTOMER = "customer", _("Customer level")
    SERVICE = "service", _("Service level")


TIER_DEPTH = {Tier.CORPORATE: 0, Tier.CUSTOMER: 1, Tier.SERVICE: 2}


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


REVIEW_CHOICES = [(months, f"every {months} months") for months in (3, 6, 12, 18, 24)]


class Agreement(models.Model):
    reference = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    provider = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        related_name="agreements_as_provider",
        limit_choices_to={"kind": PartyKind.PROVIDER},
    )
    customer = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        related_name="agreements_as_customer",
        limit_choices_to={"kind__in": [PartyKind.CUSTOMER, PartyKind.INTERNAL]},
        help_text="An external customer or an internal department of the provider.",
    )
    kind = models.CharField(
        max_length=16,
        choices=AgreementKind.choices,
        editable=False,
        help_text="Derived from the customer party.",
    )
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.SERVICE)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The agreement one tier up whose objectives this one inherits.",
    )
    services = models.ManyToManyField(Service, blank=True, related_name="agreements")
    calendar = models.ForeignKey(
        Calendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
        help_text="Business hours of this agreement's objectives that name no calendar of "
        "their own (and of its children's, unless they name one); none: the parent "
        "agreement's, else the tenant's default calendar, else 24×7.",
    )
    term_start = models.DateField(validators=[validate_date_in_range])
    term_end = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    signed_on = models.DateField(
        null=True, blank=True, help_text="Set when the first revision becomes binding."
    )
    monthly_fee = models.DecimalField(
        max_digits=14,
        decimal_places=3,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The basis of service credits.",
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    requires_acceptance = models.BooleanField(
        default=True, help_text="New revisions bind only once a customer manager accepts them."
    )
    review_every_months = models.PositiveSmallIntegerField(choices=REVIEW_CHOICES, default=12)
    next_review_on = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    last_reviewed_on = models.DateField(null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[services])

    class Meta:
        ordering = ["reference"]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    def save(self, *args, **kwargs) -> None:
        self.kind = self.derive_kind()
        if self.next_review_on is None and self.term_start:
            self.next_review_on = self.default_next_review()
        super().save(*args, **kwargs)

    # --- derived facts -----------------------------------------------------
    def derive_kind(self) -> str:
        if self.customer_id and self.customer.kind == PartyKind.INTERNAL:
            return AgreementKind.INTERNAL
        return AgreementKind.CUSTOMER

    def default_next_review(self) -> date:
        anchor = self.signed_on or self.term_start
        return anchor + relativedelta(months=self.review_every_months)

    @property
    def age_days(self) -> int | None:
        """Days since signing (None while unsigned)."""
        if self.signed_on is None:
            return None
        return (timezone.localdate() - self.signed_on).days

    @property
    def review_due(self) -> bool:
        return self.next_review_on is not None and self.next_review_on <= timezone.localdate()

    # --- invariants of one row ----------------------------------------------
    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.provider_id and self.provider.kind != PartyKind.PROVIDER:
            errors["provider"] = "The provider must be a party of kind 'provider'."
        if self.customer_id and self.customer.kind == PartyKind.PROVIDER:
            errors["customer"] = "The customer must be a customer or an internal department."
        if self.term_end and self.term_start and self.term_end < self.term_start:
            errors["term_end"] = "The term cannot end before it starts."
        fee, currency = self.monthly_fee, self.currency
        if currency in MINOR_UNITS and fee is not None and not has_minor_unit_digits(fee, currency):
            errors["monthly_fee"] = f"{currency} has {MINOR_UNITS[currency]} decimal places."
        errors.update(self._clean_parent())
        if errors:
            raise ValidationError(errors)

    def _clean_parent(self) -> dict[str, str]:
        parent = self.parent
        if parent is None:  # a stand-alone agreement at any tier is fine
            return {}
        if self.pk is not None and parent.pk == self.pk:
            return {"parent": "An agreement cannot be its own parent."}
        if TIER_DEPTH[Tier(parent.tier)] >= TIER_DEPTH[Tier(self.tier)]:
            return {
                "parent": f"A {self.get_tier_display().lower()} agreement must sit under a "
                "higher tier (corporate → customer → service)."
            }
        if self.provider_id and parent.provider_id != self.provider_id:
            return {"parent": "The parent agreement belongs to another provider."}
        if (
            self.customer_id
            and parent.customer_id
            and self.customer_id not in party_descendant_ids([parent.customer_id])
        ):
            return {
                "parent": "The customer must be the parent agreement's customer "
                "or one of its subsidiaries/departments."
            }
        return {}

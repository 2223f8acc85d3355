"""Parties to agreements: the provider, its customers and internal departments."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class PartyKind(models.TextChoices):
    PROVIDER = "provider", _("Provider")
    CUSTOMER = "customer", _("Customer")
    INTERNAL = "internal", _("Internal department")


# Which kinds a party of a given kind may sit under.
ALLOWED_PARENT_KINDS: dict[str, set[str]] = {
    PartyKind.PROVIDER: {PartyKind.PROVIDER},  # a provider company within its group
    PartyKind.CUSTOMER: {PartyKind.CUSTOMER},  # a subsidiary within its group
    PartyKind.INTERNAL: {PartyKind.PROVIDER, PartyKind.INTERNAL},  # department of the company
}


class Party(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=PartyKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        parent = self.parent
        if parent is None:
            return
        if parent.kind not in ALLOWED_PARENT_KINDS[self.kind]:
            raise ValidationError(
                {
                    "parent": f"A {self.get_kind_display().lower()} cannot belong to a "
                    f"{parent.get_kind_display().lower()}."
                }
            )
        # Walk up from the new parent: meeting ourselves means a cycle.
        seen: set[int] = set()
        node: Party | None = parent
        while node is not None:
            if self.pk is not None and node.pk == self.pk:
                raise ValidationError({"parent": "This would make the party its own ancestor."})
            if node.pk in seen:  # pragma: no cover - defensive, data already cyclic
                break
            seen.add(node.pk)
            node = node.parent


class ContactRole(models.TextChoices):
    REPORT_RECIPIENT = "report_recipient", _("Report recipient")
    ESCALATION = "escalation", _("Escalation contact")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    OTHER = "other", _("Other")


class Contact(models.Model):
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=32, choices=ContactRole.choices)
    escalation_level = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1 = first line of escalation."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["party", "role", "escalation_level", "name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> ({self.get_role_display()})"


class MembershipRole(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    MANAGER = "manager", _("Manager")


class Membership(models.Model):
    """A user acts for a party: sees its data (and its descendants'); managers also decide."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        max_length=16, choices=MembershipRole.choices, default=MembershipRole.VIEWER
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["party", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "party"], name="membership_user_party_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.party} ({self.get_role_display()})"


class Preference(models.Model):
    """What a user chose for themselves: the portal's language (blank: the browser's)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES)

    def __str__(self) -> str:
        return f"{self.user}: {self.language or 'browser language'}"

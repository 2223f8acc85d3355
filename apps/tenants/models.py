"""Providers (tenants) and the host names that route to them. Public schema only."""

from __future__ import annotations

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    """One service provider: one PostgreSQL schema."""

    name = models.CharField(max_length=200)
    default_timezone = models.CharField(
        max_length=64,
        default="Europe/Berlin",
        help_text="Periods of objectives without a calendar are bounded in this timezone.",
    )
    is_template = models.BooleanField(
        default=False,
        editable=False,
        help_text="The schema new tenants are cloned from; never routed, never served.",
    )
    created_on = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.schema_name})"


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

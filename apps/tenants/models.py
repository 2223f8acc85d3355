"""Providers (tenants) and the host names that route to them. Public schema only."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.postgresql_backend.base import _check_schema_name
from django_tenants.utils import (
    get_creation_fakes_migrations,
    get_tenant_database_alias,
    schema_exists,
)

from apps.core.tenancy import use_public_schema
from apps.tenants.clone import clone_schema, fake_migrate_needed


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

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """django-tenants' create_schema, with apps.tenants.clone instead of pg-clone-schema.

        Falls back to django-tenants for everything but "clone the existing base
        schema". The fake ``migrate_schemas`` that follows a clone is skipped
        when it would do nothing (see apps.tenants.clone.fake_migrate_needed).
        """
        alias = get_tenant_database_alias()
        _check_schema_name(self.schema_name)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        base: str | None = self.get_base_schema() if get_creation_fakes_migrations() else None
        if not (sync_schema and base and schema_exists(base)):
            return super().create_schema(
                check_if_exists=False, sync_schema=sync_schema, verbosity=verbosity
            )

        use_public_schema(alias)
        # As django-tenants' CloneSchema: a name differing only in case is taken too.
        if schema_exists(self.schema_name, case_sensitive=False):
            raise ValidationError("New schema name already exists")
        clone_schema(base, self.schema_name, data=self.clone_mode == "DATA", using=alias)
        if fake_migrate_needed(self.schema_name):
            call_command(
                "migrate_schemas",
                tenant=True,
                fake=True,
                schema_name=self.schema_name,
                interactive=False,
                verbosity=verbosity,
            )
        use_public_schema(alias)
        return None


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

"""Reads of the tenant registry (public schema)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from apps.core.tenancy import current_schema, current_tenant
from apps.tenants.models import Tenant


def tenant_list_serving() -> QuerySet[Tenant]:
    """Provider tenants that serve traffic and run jobs: not public, not the template."""
    return Tenant.objects.exclude(schema_name=get_public_schema_name()).filter(is_template=False)


def tenant_timezone() -> str:
    """The current tenant's default timezone (periods without a calendar use it)."""
    tenant = current_tenant()
    zone = getattr(tenant, "default_timezone", None)
    if not zone:
        zone = (
            Tenant.objects.filter(schema_name=current_schema())
            .values_list("default_timezone", flat=True)
            .first()
        )
    return zone or settings.DEFAULT_TIME_ZONE

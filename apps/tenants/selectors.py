"""Reads of the tenant registry (public schema)."""

from __future__ import annotations

from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from apps.tenants.models import Tenant


def tenant_list_serving() -> QuerySet[Tenant]:
    """Provider tenants that serve traffic and run jobs: not public, not the template."""
    return Tenant.objects.exclude(schema_name=get_public_schema_name()).filter(is_template=False)

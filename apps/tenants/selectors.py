"""Reads of the tenant registry (public schema)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from apps.core.tenancy import current_schema, current_tenant
from apps.tenants.models import Domain, Tenant


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


def tenant_base_url(schema_name: str | None = None) -> str:
    """The absolute base URL of a tenant's host, for links in e-mails and webhooks:
    ``<PUBLIC_URL_SCHEME>://<primary domain>[:<PUBLIC_URL_PORT>]`` (no trailing slash)."""
    schema = schema_name or current_schema()
    domain = (
        Domain.objects.filter(tenant__schema_name=schema)
        .order_by("-is_primary", "domain")
        .values_list("domain", flat=True)
        .first()
    ) or f"{schema}.{settings.BASE_DOMAIN}"
    port = int(settings.PUBLIC_URL_PORT or 0)
    scheme = settings.PUBLIC_URL_SCHEME
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{domain}" + (f":{port}" if port and port != default else "")

"""Writes to the tenant registry: the public tenant, the template, new providers."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from apps.tenants.models import Domain, Tenant

logger = logging.getLogger(__name__)

SLUG_RE = re.compile(r"^[a-z][a-z0-9]{1,39}$")
RESERVED_SLUGS = {"public", "www", "admin", "api", "static", "template", "tenant_template"}


@dataclass(frozen=True)
class TenantCreated:
    tenant: Tenant
    seconds: float
    cloned: bool


def tenant_domain_for(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def public_tenant_ensure() -> Tenant:
    """The public tenant (landing page, platform admin) on the bare BASE_DOMAIN."""
    public_name = get_public_schema_name()
    with transaction.atomic():
        tenant = Tenant.objects.filter(schema_name=public_name).first()
        if tenant is None:
            tenant = Tenant(schema_name=public_name, name="SLA Portal platform")
            tenant.auto_create_schema = False
            tenant.save()
        Domain.objects.update_or_create(
            domain=settings.BASE_DOMAIN, defaults={"tenant": tenant, "is_primary": True}
        )
    return tenant


def template_tenant_ensure() -> Tenant:
    """The migrated, empty schema that new tenants are cloned from.

    It is a Tenant row (without a domain) so that ``migrate_schemas`` keeps it
    migrated like every other tenant; it is never routed and never seeded.
    """
    base = settings.TENANT_BASE_SCHEMA
    tenant = Tenant.objects.filter(schema_name=base).first()
    if tenant is not None and schema_exists(base):
        return tenant
    if tenant is None:
        tenant = Tenant(schema_name=base, name="Template for new tenants")
    tenant.is_template = True
    # The base schema does not exist yet, so django-tenants migrates it normally.
    tenant.save(verbosity=0)
    return tenant


def validate_slug(slug: str) -> None:
    if not SLUG_RE.match(slug):
        raise ValidationError(
            {"slug": "Use 2-40 lowercase letters and digits, starting with a letter."}
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"'{slug}' is reserved."})
    if Tenant.objects.filter(schema_name=slug).exists() or schema_exists(slug):
        raise ValidationError({"slug": f"A tenant '{slug}' already exists."})
    if Domain.objects.filter(domain=tenant_domain_for(slug)).exists():
        raise ValidationError({"slug": f"The domain {tenant_domain_for(slug)} is taken."})


def tenant_create(
    *,
    slug: str,
    name: str,
    admin_username: str | None = None,
    admin_password: str | None = None,
    admin_email: str = "",
    default_timezone: str | None = None,
) -> TenantCreated:
    """Create a provider tenant on ``<slug>.<BASE_DOMAIN>``, optionally with a superuser.

    The schema is cloned from the template schema (migrations faked), which is
    an order of magnitude faster than migrating a fresh schema. Everything
    happens in one transaction: a failure leaves no tenant, domain or schema.
    """
    validate_slug(slug)
    if not name.strip():
        raise ValidationError({"name": "A tenant needs a name."})
    if (admin_username is None) != (admin_password is None):
        raise ValidationError({"admin": "Give both an admin user name and a password, or neither."})

    public_tenant_ensure()
    template_tenant_ensure()
    cloned = settings.TENANT_CREATION_FAKES_MIGRATIONS and schema_exists(
        settings.TENANT_BASE_SCHEMA
    )
    started = time.perf_counter()
    with transaction.atomic():
        tenant = Tenant(
            schema_name=slug,
            name=name.strip(),
            default_timezone=default_timezone or settings.DEFAULT_TIME_ZONE,
        )
        tenant.save(verbosity=0)
        Domain.objects.create(domain=tenant_domain_for(slug), tenant=tenant, is_primary=True)
        if admin_username is not None:
            with schema_context(tenant.schema_name):
                get_user_model().objects.create_superuser(
                    username=admin_username, email=admin_email, password=admin_password
                )
    seconds = time.perf_counter() - started
    logger.info("tenant %s created in %.2f s (cloned=%s)", slug, seconds, cloned)
    return TenantCreated(tenant=tenant, seconds=seconds, cloned=cloned)

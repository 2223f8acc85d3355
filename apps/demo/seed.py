"""Demo data: two provider tenants with users, so the product and its isolation can be seen.

Idempotent: running it again creates what is missing and changes nothing else
(passwords are set to the demo password each time, so they stay known); a tenant
seeded earlier keeps its data and dates.
The domain data of the 'demo' tenant comes from ``apps.demo.agreements`` (parties,
calendars, agreements, revisions) and ``apps.demo.measurements`` (thirteen months of
tickets, outages and samples, evaluated), dated relative to the day it is seeded
(``apps.demo.dates``: today in the tenant's timezone, or the ``today`` given).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from apps.demo import agreements, integrations, measurements, reports
from apps.demo.dates import demo_today
from apps.tenants.models import Tenant
from apps.tenants.services import public_tenant_ensure, template_tenant_ensure, tenant_create

PASSWORD_FILE = Path(settings.BASE_DIR) / ".data" / "demo-password"

# Callables seed(tenant=, password=, today=) run inside the demo tenant's schema, in order.
Seeder = Callable[..., None]
DEMO_SEEDERS: list[Seeder] = [agreements.seed, measurements.seed, reports.seed, integrations.seed]


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    email: str
    is_staff: bool = False
    is_superuser: bool = False


@dataclass
class DemoTenant:
    slug: str
    name: str
    users: list[DemoUser]
    seeders: list[Seeder] = field(default_factory=list)


DEMO_TENANTS = [
    DemoTenant(
        slug="demo",
        name="Northwind Hosting",
        users=[
            DemoUser("admin", "Ada", "Admin", "admin@northwind.example", True, True),
            DemoUser("manager", "Max", "Manager", "manager@northwind.example", True),
            DemoUser("alice", "Alice", "Andersen", "alice@globex.example"),
            DemoUser("bob", "Bob", "Brown", "bob@initech.example"),
            DemoUser("dora", "Dora", "Diaz", "dora@northwind.example"),
        ],
        seeders=DEMO_SEEDERS,
    ),
    DemoTenant(
        slug="acme",
        name="Acme Managed Services",
        users=[DemoUser("admin", "Arthur", "Acme", "admin@acme.example", True, True)],
    ),
]


def demo_password() -> tuple[str, bool]:
    """$DEMO_PASSWORD, else one generated once and kept in .data/ (gitignored).

    Returns the password and whether it was generated.
    """
    if settings.DEMO_PASSWORD:
        return settings.DEMO_PASSWORD, False
    if PASSWORD_FILE.exists():
        return PASSWORD_FILE.read_text().strip(), True
    PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    PASSWORD_FILE.write_text(password + "\n")
    PASSWORD_FILE.chmod(0o600)
    return password, True


def _ensure_users(users: list[DemoUser], password: str) -> None:
    user_model = get_user_model()
    for spec in users:
        user, _ = user_model.objects.get_or_create(username=spec.username)
        user.first_name, user.last_name, user.email = spec.first_name, spec.last_name, spec.email
        user.is_staff, user.is_superuser = spec.is_staff, spec.is_superuser
        if not user.check_password(password):
            user.set_password(password)
        user.save()


def seed_tenant(
    spec: DemoTenant, *, tenant: Tenant, password: str, today: date | None = None
) -> None:
    """Create or complete ``spec``'s users and data in ``tenant`` (inside its schema);
    dated relative to ``today``, by default today in the tenant's timezone."""
    day = today or demo_today()
    _ensure_users(spec.users, password)
    for seeder in spec.seeders:
        seeder(tenant=tenant, password=password, today=day)


def seed_demo(log: Callable[[str], None] = print, today: date | None = None) -> str:
    """Create or complete the demo tenants; returns the demo password."""
    password, _ = demo_password()
    public_tenant_ensure()
    template_tenant_ensure()
    for spec in DEMO_TENANTS:
        tenant = Tenant.objects.filter(schema_name=spec.slug).first()
        if tenant is None:
            created = tenant_create(slug=spec.slug, name=spec.name)
            tenant = created.tenant
            log(f"created tenant {spec.slug} in {created.seconds:.2f} s")
        with schema_context(tenant.schema_name):
            seed_tenant(spec, tenant=tenant, password=password, today=today)
    return password

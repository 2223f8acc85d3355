"""Two provider tenants with the demo's data, told apart by their agreement references.

Both tenants get the demo cast (admin, manager, alice, bob, dora) and the demo's
domain data (``apps.demo.agreements.seed``: parties, calendars, agreements,
revisions; ``apps.demo.measurements.seed``: twelve months of tickets, outages and
samples, evaluated and credited). The report subscriptions are left out, so the
only jobs are the ones the harness sends and beat's settlement.

The seeders create the same references in both schemas; each tenant's are then
prefixed with its slug in capitals (``ALPHA-NW-INITECH``), so a page of one
tenant that shows a reference of the other is a leak a harness can look for.

Runs inside an already configured Django process (``django.setup()`` done).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

DEMO_USERS = [
    # username, first, last, staff, superuser
    ("admin", "Ada", "Admin", True, True),
    ("manager", "Max", "Manager", True, False),
    ("alice", "Alice", "Andersen", False, False),
    ("bob", "Bob", "Brown", False, False),
    ("dora", "Dora", "Diaz", False, False),
]
CUSTOMERS = ["alice", "bob", "dora"]


@dataclass
class TenantManifest:
    slug: str
    name: str
    host: str
    token: str  # the provider manager's API token
    service: int  # a service with no agreement: where the harness's tickets go
    references: list[str]
    agreements: dict[str, list[int]] = field(default_factory=dict)  # customer -> ids
    periods: list[str] = field(default_factory=list)  # months with data, newest first
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ensure_users(password: str) -> None:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    for username, first, last, staff, superuser in DEMO_USERS:
        user, _ = users.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@example.test"
        user.is_staff, user.is_superuser = staff, superuser
        user.set_password(password)
        user.save()


def seed_tenant(slug: str, name: str, password: str) -> TenantManifest:
    from django.contrib.auth import get_user_model
    from django.db.models import Value
    from django.db.models.functions import Concat
    from django_tenants.utils import schema_context
    from rest_framework.authtoken.models import Token

    from apps.agreements.models import Agreement, Service
    from apps.agreements.selectors import agreement_list_visible
    from apps.compliance.models import ComplianceResult
    from apps.demo import agreements as demo_agreements
    from apps.demo import measurements as demo_measurements
    from apps.tenants.services import tenant_create

    started = time.perf_counter()
    tenant = tenant_create(slug=slug, name=name).tenant
    with schema_context(slug):
        _ensure_users(password)
        demo_agreements.seed(tenant=tenant, password=password)
        demo_measurements.seed(tenant=tenant, password=password)
        prefix = slug.upper() + "-"
        Agreement.objects.exclude(reference__startswith=prefix).update(
            reference=Concat(Value(prefix), "reference")
        )
        service, _ = Service.objects.get_or_create(
            name="Harness intake", defaults={"description": "Tickets of the harnesses."}
        )
        users = get_user_model().objects
        token, _ = Token.objects.get_or_create(user=users.get(username="manager"))
        agreements = {
            username: list(
                agreement_list_visible(users.get(username=username)).values_list("pk", flat=True)
            )
            for username in CUSTOMERS
        }
        periods = sorted(
            {
                label
                for label in ComplianceResult.objects.values_list("period", flat=True)
                if "Q" not in label
            },
            reverse=True,
        )
        references = sorted(Agreement.objects.values_list("reference", flat=True))
    return TenantManifest(
        slug=slug,
        name=name,
        host=f"{slug}.{settings.BASE_DOMAIN}",
        token=token.key,
        service=service.pk,
        references=references,
        agreements=agreements,
        periods=periods,
        seconds=time.perf_counter() - started,
    )


def seed_two(password: str, slugs: tuple[str, str] = ("alpha", "bravo")) -> list[TenantManifest]:
    names = {"alpha": "Alpha Hosting", "bravo": "Bravo Hosting"}
    return [seed_tenant(slug, names.get(slug, slug.title()), password) for slug in slugs]

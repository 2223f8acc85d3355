"""Test set-up: tenants A and B created once per run, and clients bound to their hosts.

The tenants and their users are committed (not rolled back) so that a real
Celery worker in another process can see them; each test still runs in a
transaction that is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.tenants.models import Tenant
from apps.tenants.services import public_tenant_ensure, tenant_create

# The engine fixtures (engine, bound) serve the compliance, credits and calendars tests.
pytest_plugins = ["tests.support.engine"]

PASSWORD = "correct-horse-battery-staple"


@dataclass(frozen=True)
class TenantInfo:
    slug: str
    name: str
    host: str

    @property
    def schema(self) -> str:
        return self.slug


TENANT_A = TenantInfo("alpha", "Alpha Provider", f"alpha.{settings.BASE_DOMAIN}")
TENANT_B = TenantInfo("beta", "Beta Provider", f"beta.{settings.BASE_DOMAIN}")
PUBLIC_HOST = settings.BASE_DOMAIN

# username -> (is_staff, is_superuser); created in both tenants with a suffix.
CAST = {
    "admin": (True, True),
    "manager": (True, False),
    "customer_x": (False, False),
    "customer_y": (False, False),
}


def _ensure_tenant(info: TenantInfo) -> None:
    if not Tenant.objects.filter(schema_name=info.slug).exists():
        tenant_create(slug=info.slug, name=info.name)
    with schema_context(info.schema):
        user_model = get_user_model()
        for username, (is_staff, is_superuser) in CAST.items():
            user, _ = user_model.objects.get_or_create(username=f"{username}_{info.slug}")
            user.is_staff, user.is_superuser = is_staff, is_superuser
            user.set_password(PASSWORD)
            user.save()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        public_tenant_ensure()
        _ensure_tenant(TENANT_A)
        _ensure_tenant(TENANT_B)


@pytest.fixture
def tenant_a(db) -> TenantInfo:
    return TENANT_A


@pytest.fixture
def tenant_b(db) -> TenantInfo:
    return TENANT_B


@pytest.fixture
def client_a(db) -> Client:
    return Client(HTTP_HOST=TENANT_A.host)


@pytest.fixture
def client_b(db) -> Client:
    return Client(HTTP_HOST=TENANT_B.host)


@pytest.fixture
def public_client(db) -> Client:
    return Client(HTTP_HOST=PUBLIC_HOST)


@pytest.fixture
def api_a(db) -> APIClient:
    return APIClient(HTTP_HOST=TENANT_A.host)


@pytest.fixture
def api_b(db) -> APIClient:
    return APIClient(HTTP_HOST=TENANT_B.host)


@pytest.fixture(autouse=True)
def _public_schema_between_tests():
    """Requests switch the shared connection's schema; start every test on public."""
    from django.db import connection

    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


def _test_database_url() -> str:
    """DATABASE_URL pointing at the test database pytest-django created."""
    import os
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + settings.DATABASES["default"]["NAME"]))


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup):
    """A real `celery worker` subprocess on the test database and a private queue."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from config.celery import app

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "CELERY_QUEUE": queue,
    }
    log = Path(settings.BASE_DIR) / ".data" / f"worker-{queue}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queue,
                "--pool",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"celery worker exited: {log.read_text()[-3000:]}")
            if app.control.ping(timeout=1.0, destination=None):
                break
        else:
            pytest.fail(f"celery worker did not start: {log.read_text()[-3000:]}")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        app.connection_for_write().channel().queue_purge(queue)


def sign_in(client: Client, username: str, password: str = PASSWORD) -> None:
    """Sign in through the tenant's login page, so the tenant middleware picks the schema."""
    response = client.post("/login/", {"username": username, "password": password})
    assert response.status_code == 302, f"sign-in of {username} failed"


@dataclass
class World:
    """One tenant's cast and domain: provider P, customers X and Y, an agreement each.

    manager: staff + manager of P; customer_x: manager of X; customer_y: viewer of Y.
    agreement_x has revision 1 approved and accepted, with one objective and one tier.
    """

    tenant: TenantInfo
    admin: object
    manager: object
    staff: object
    customer_x: object
    customer_y: object
    provider: object
    party_x: object
    party_y: object
    calendar: object
    service: object
    agreement_x: object
    agreement_y: object
    revision_x: object
    objective_x: object
    tier_x: object


def build_world(info: TenantInfo) -> World:
    from decimal import Decimal

    from apps.parties.models import MembershipRole, PartyKind
    from apps.revisions.models import CreditTier
    from apps.revisions.services import revision_accept, revision_approve
    from tests.factories import (
        AgreementFactory,
        CalendarFactory,
        MembershipFactory,
        ObjectiveFactory,
        PartyFactory,
        RevisionFactory,
        ServiceFactory,
    )

    users = get_user_model().objects
    admin = users.get(username=f"admin_{info.slug}")
    manager = users.get(username=f"manager_{info.slug}")
    customer_x = users.get(username=f"customer_x_{info.slug}")
    customer_y = users.get(username=f"customer_y_{info.slug}")
    staff, _ = users.get_or_create(username=f"staff_{info.slug}", defaults={"is_staff": True})
    provider = PartyFactory(name=f"Provider {info.slug}", kind=PartyKind.PROVIDER)
    party_x = PartyFactory(name=f"Customer X {info.slug}")
    party_y = PartyFactory(name=f"Customer Y {info.slug}")
    MembershipFactory(user=manager, party=provider, role=MembershipRole.MANAGER)
    MembershipFactory(user=customer_x, party=party_x, role=MembershipRole.MANAGER)
    MembershipFactory(user=customer_y, party=party_y, role=MembershipRole.VIEWER)
    calendar = CalendarFactory(name=f"Office {info.slug}")
    service = ServiceFactory(name=f"Hosting {info.slug}")
    agreement_x = AgreementFactory(reference=f"X-{info.slug}", provider=provider, customer=party_x)
    agreement_x.services.set([service])
    agreement_y = AgreementFactory(reference=f"Y-{info.slug}", provider=provider, customer=party_y)
    revision_x = RevisionFactory(agreement=agreement_x)
    objective_x = ObjectiveFactory(revision=revision_x, key="availability", calendar=calendar)
    tier_x = CreditTier.objects.create(
        revision=revision_x, objective=objective_x, below=Decimal("99.9"), percent=Decimal("10")
    )
    revision_approve(revision=revision_x, acting_user=manager)
    revision_accept(revision=revision_x, acting_user=customer_x)
    revision_x.refresh_from_db()
    return World(
        info,
        admin,
        manager,
        staff,
        customer_x,
        customer_y,
        provider,
        party_x,
        party_y,
        calendar,
        service,
        agreement_x,
        agreement_y,
        revision_x,
        objective_x,
        tier_x,
    )


@pytest.fixture
def world_a(db) -> World:
    with schema_context(TENANT_A.schema):
        return build_world(TENANT_A)


@pytest.fixture
def world_b(db) -> World:
    with schema_context(TENANT_B.schema):
        return build_world(TENANT_B)


@pytest.fixture
def in_a(db):
    """Run the test body in tenant A's schema."""
    with schema_context(TENANT_A.schema):
        yield TENANT_A


@pytest.fixture
def world(world_a, in_a) -> World:
    """world_a, with the test body running in tenant A's schema (for tests of services)."""
    return world_a


def agreement_for(world: World, reference: str, tier, customer=None, parent=None, **extra):
    """An agreement of the world's provider (customer X unless told), saved by the service."""
    from datetime import date

    from apps.agreements.services import agreement_save

    return agreement_save(
        acting_user=world.admin,
        reference=reference,
        title=reference,
        provider=world.provider,
        customer=customer or world.party_x,
        tier=tier,
        parent=parent,
        term_start=date(2026, 1, 1),
        **extra,
    )


def api_as(client: APIClient, user) -> APIClient:
    """Authenticate an API client as ``user`` (token created in the user's schema)."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def manager_api(world_a, api_a) -> APIClient:
    """Tenant A's API client, authenticated as the provider manager of world_a."""
    with schema_context(TENANT_A.schema):
        return api_as(api_a, world_a.manager)


@pytest.fixture
def admin_client(world_a, client_a) -> Client:
    """Tenant A's client, signed in to the provider admin as admin_alpha.

    Replaces pytest-django's ``admin_client``, which knows nothing of tenants.
    """
    response = client_a.post(
        "/admin/login/", {"username": "admin_alpha", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    return client_a

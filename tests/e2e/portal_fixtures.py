"""Fixtures of the portal's browser tests (registered from tests/e2e/conftest.py).

* ``portal_site`` — a throw-away provider tenant ``e2ep<6 letters>`` seeded with the
  demo's data as of today (``apps.demo.seed.seed_tenant``: Globex with alice, Initech
  with bob, the internal Finance department with dora, a revision awaiting alice's
  acceptance, missed months with breaching tickets, credits), every demo user with the
  test password; committed, so the live server sees it; dropped at the end of the session.
  It is served by the same gunicorn as the admin flow (``e2e_server``): a tenant is a
  host name, not a process.
* ``portal_page(user, viewport)`` — a page of a fresh browser context on that tenant,
  signed in as ``user`` (or anonymous), closed after the test.
* ``portal_shots`` — the folder for screenshots (git-ignored).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / ".e2e-shots" / "portal"
SLUG_PATTERN = r"^e2ep[a-z]{6}$"  # never one of the admin flow's e2e<6 letters>
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class PortalSite:
    slug: str
    port: int

    @property
    def host(self) -> str:
        return f"{self.slug}.{settings.BASE_DOMAIN}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def direct(self) -> str:
        """What `requests` connects to; send ``Host: self.host`` with it."""
        return f"http://127.0.0.1:{self.port}"


def _drop(slug: str) -> None:
    from django.db import connection
    from django_tenants.utils import schema_exists

    from apps.tenants.models import Domain, Tenant

    connection.set_schema_to_public()
    if schema_exists(slug):
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{slug}" CASCADE')
    Domain.objects.filter(tenant__schema_name=slug).delete()
    Tenant.objects.filter(schema_name=slug).delete()  # the queryset: no TenantMixin.delete


def _seed(slug: str) -> None:
    """The demo tenant's users and data, in ``slug``'s schema, relative to today (the
    live server runs on the real clock)."""
    from django_tenants.utils import schema_context

    from apps.demo.seed import DEMO_TENANTS, seed_tenant
    from apps.tenants.models import Tenant

    demo = next(spec for spec in DEMO_TENANTS if spec.slug == "demo")
    tenant = Tenant.objects.get(schema_name=slug)
    with schema_context(slug):
        seed_tenant(demo, tenant=tenant, password=PASSWORD)


@pytest.fixture(scope="session")
def portal_site(e2e_server, django_db_blocker) -> Iterator[PortalSite]:
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    slug = "e2ep" + "".join(random.choices(string.ascii_lowercase, k=6))
    with django_db_blocker.unblock():
        stale = Tenant.objects.filter(schema_name__regex=SLUG_PATTERN)
        for old in list(stale.values_list("schema_name", flat=True)):
            _drop(old)
        tenant_create(slug=slug, name="Northwind Hosting (portal e2e)")
        try:
            _seed(slug)
        except BaseException:
            _drop(slug)
            raise
    try:
        yield PortalSite(slug=slug, port=e2e_server.port)
    finally:
        with django_db_blocker.unblock():
            _drop(slug)


@pytest.fixture(scope="session")
def portal_shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Through the sign-in form, like a person."""
    page.goto("/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.fixture
def portal_page(browser, portal_site) -> Iterator[Callable[..., Any]]:
    """``portal_page("alice")`` → a signed-in page; ``portal_page(None, PHONE)`` → anonymous."""
    contexts = []

    def open_page(username: str | None, viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
        context = browser.new_context(
            base_url=portal_site.url,
            viewport=viewport,
            locale=options.pop("locale", "en-GB"),
            accept_downloads=True,
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        if username:
            sign_in(page, username)
        return page

    pages: list[Any] = []
    open_page.pages = pages  # type: ignore[attr-defined]  # for the failure report's screenshot
    yield open_page
    for context in contexts:
        context.close()


def portal_ids(slug: str) -> dict[str, Any]:
    """Ids in the seeded tenant that the tests name: agreements by reference, alice's
    pending revision, a missed month with breaching tickets, a credit she may dispute."""
    from django_tenants.utils import schema_context

    from apps.agreements.models import Agreement
    from apps.compliance.models import ComplianceResult, ResultStatus
    from apps.credits.models import CreditStatus, ServiceCredit
    from apps.revisions.models import Revision, RevisionStatus

    with schema_context(slug):
        agreements = dict(Agreement.objects.values_list("reference", "pk"))
        de = agreements["NW-GLOBEX-DE"]
        pending = Revision.objects.get(agreement_id=de, status=RevisionStatus.APPROVED)
        missed = (
            ComplianceResult.objects.filter(
                agreement_id=de, status=ResultStatus.MISSED, metric="response_time"
            )
            .order_by("-period")
            .values_list("period", flat=True)
            .first()
        )
        credit = (
            ServiceCredit.objects.filter(agreement_id=de, status=CreditStatus.CALCULATED)
            .order_by("-period")
            .first()
        )
    return {
        "agreements": agreements,
        "de": de,
        "pending": pending.number,
        "missed": missed,
        "credit": credit.pk if credit else None,
        "credit_period": credit.period if credit else None,
    }

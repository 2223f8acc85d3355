"""Browser tests: a real gunicorn on the test database, driven by Debian's Chromium.

Session set-up, in order:

* ``e2e_tenant`` — a throw-away provider tenant ``e2e<6 letters>`` (committed,
  so the server process sees it) with the people, parties, calendar and service
  the admin flow needs; its schema and rows are dropped at the end.
* ``e2e_server`` — ``gunicorn config.wsgi`` on a free port of 127.0.0.1.
* ``browser`` — Chromium from /usr/bin/chromium (never downloaded), headless.
* ``portal_site``, ``portal_page``, ``portal_shots`` — the customer portal's tests
  (tests/e2e/portal_fixtures.py): a second throw-away tenant with the demo's data,
  served by the same gunicorn.

Each test gets its own browser context (cookies do not leak between tests).
"""

from __future__ import annotations

import os
import random
import socket
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings

from apps.parties.services import DOMAIN_APPS
from tests.conftest import PASSWORD, _test_database_url
from tests.e2e.portal_fixtures import portal_page, portal_shots, portal_site  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
E2E_DIR = Path(__file__).resolve().parent
ROOT = E2E_DIR.parent.parent
SHOTS = Path("/tmp/e2e-shots")
DEFAULT_TIMEOUT_MS = 15_000
SERVER_START_SECONDS = 60


def pytest_collection_modifyitems(config, items):
    """Mark every test of this package ``e2e``; skip them all without Chromium.

    They also get ``django_db``: pytest-django points the settings at the test
    database only when a collected test asks for the database, and an e2e run
    on its own must still use it (the tests themselves only read).
    """
    skip = pytest.mark.skip(reason=f"e2e tests need Debian's Chromium at {CHROMIUM}")
    for item in items:
        if E2E_DIR not in Path(item.path).resolve().parents:
            continue
        item.add_marker(pytest.mark.e2e)
        item.add_marker(pytest.mark.django_db)
        if not CHROMIUM.exists():
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed e2e test: a screenshot of the page and the server log in the report."""
    report = yield
    if report.when != "call" or not report.failed or "e2e_server" not in item.fixturenames:
        return report
    page = item.funcargs.get("page")
    opened = getattr(item.funcargs.get("portal_page"), "pages", [])
    if page is None and opened:
        page = opened[-1]  # the portal tests' last page
    if page is not None:
        shot = SHOTS / f"FAILED-{item.name}.png"
        try:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True, timeout=5_000)
            report.sections.append(("e2e", f"page at failure: {page.url}\nscreenshot: {shot}"))
        except Exception as exc:  # the page may be gone; the report matters more
            report.sections.append(("e2e", f"no screenshot: {exc!r}"))
    server = item.funcargs.get("e2e_server")
    if server is not None:
        report.sections.append(("gunicorn log (tail)", server.log_tail()))
    return report


# --- the tenant ----------------------------------------------------------------


@dataclass(frozen=True)
class E2ETenant:
    slug: str
    ids: dict[str, int]  # names of the objects created here -> primary keys

    @property
    def schema(self) -> str:
        return self.slug

    def host(self, port: int) -> str:
        return f"{self.slug}.{settings.BASE_DOMAIN}:{port}"


def _drop_tenant(slug: str) -> None:
    """Remove a tenant's schema and its Tenant/Domain rows (idempotent)."""
    from django.db import connection
    from django_tenants.utils import schema_exists

    from apps.tenants.models import Domain, Tenant

    connection.set_schema_to_public()
    if schema_exists(slug):
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{slug}" CASCADE')
    Domain.objects.filter(tenant__schema_name=slug).delete()
    # QuerySet.delete() skips TenantMixin.delete(), which would refuse or drop again.
    Tenant.objects.filter(schema_name=slug).delete()


def _stale_e2e_slugs() -> list[str]:
    """Tenants an interrupted earlier run left behind (``e2e`` + six letters)."""
    from apps.tenants.models import Tenant

    return list(
        Tenant.objects.filter(schema_name__regex=r"^e2e[a-z]{6}$").values_list(
            "schema_name", flat=True
        )
    )


def _populate(slug: str) -> dict[str, int]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django_tenants.utils import schema_context

    from apps.agreements.services import service_save
    from apps.calendars.services import calendar_save
    from apps.parties.models import MembershipRole, PartyKind
    from apps.parties.services import membership_grant, party_save

    with schema_context(slug):
        users = get_user_model()
        boss = users.objects.create_user(
            username="boss", password=PASSWORD, is_staff=True, first_name="Bob", last_name="Boss"
        )
        carol = users.objects.create_user(
            username="carol", password=PASSWORD, first_name="Carol", last_name="Customer"
        )
        editors = Group.objects.create(name="SLA editors")
        editors.permissions.set(Permission.objects.filter(content_type__app_label__in=DOMAIN_APPS))
        assert editors.permissions.exists(), "the tenant schema has no permissions to grant"
        boss.groups.add(editors)

        northwind = party_save(acting_user=boss, name="Northwind E2E", kind=PartyKind.PROVIDER)
        group = party_save(acting_user=boss, name="Globex Group", kind=PartyKind.CUSTOMER)
        subsidiary = party_save(
            acting_user=boss, name="Globex DE", kind=PartyKind.CUSTOMER, parent=group
        )
        membership_grant(user=boss, party=northwind, role=MembershipRole.MANAGER, acting_user=boss)
        membership_grant(user=carol, party=group, role=MembershipRole.MANAGER, acting_user=boss)
        office = calendar_save(
            acting_user=boss,
            name="Berlin office",
            timezone="Europe/Berlin",
            working_hours=[(weekday, 8 * 60, 18 * 60) for weekday in range(5)],
        )
        hosting = service_save(acting_user=boss, name="Hosting")
        return {
            "boss": boss.pk,
            "carol": carol.pk,
            "northwind": northwind.pk,
            "globex_group": group.pk,
            "globex_de": subsidiary.pk,
            "calendar": office.pk,
            "service": hosting.pk,
        }


@pytest.fixture(scope="session")
def e2e_tenant(django_db_setup, django_db_blocker) -> E2ETenant:
    from apps.tenants.services import tenant_create

    slug = "e2e" + "".join(random.choices(string.ascii_lowercase, k=6))
    with django_db_blocker.unblock():
        for stale in _stale_e2e_slugs():
            _drop_tenant(stale)
        tenant_create(slug=slug, name="Northwind E2E Hosting")
        try:
            ids = _populate(slug)
        except BaseException:
            _drop_tenant(slug)
            raise
    try:
        yield E2ETenant(slug=slug, ids=ids)
    finally:
        with django_db_blocker.unblock():
            _drop_tenant(slug)


# --- the server ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    port: int
    host: str  # Host header: <tenant>.localhost:<port>
    log: Path

    @property
    def url(self) -> str:
        """What the browser opens (Chromium resolves *.localhost to the loopback)."""
        return f"http://{self.host}"

    @property
    def direct(self) -> str:
        """What `requests` connects to; send ``Host: self.host`` with it."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@pytest.fixture(scope="session")
def e2e_server(e2e_tenant, tmp_path_factory) -> LiveServer:
    port = _free_port()
    log = tmp_path_factory.mktemp("e2e-server") / "gunicorn.log"
    server = LiveServer(port=port, host=e2e_tenant.host(port), log=log)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [
                str(gunicorn),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--timeout",
                "60",
                "--access-logfile",
                "-",
            ],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        status = None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited ({process.returncode}):\n{server.log_tail()}")
            try:
                status = requests.get(
                    f"{server.direct}/login/", headers={"Host": server.host}, timeout=2
                ).status_code
            except requests.RequestException:
                status = None
            if status == 200:
                break
            time.sleep(0.2)
        else:
            pytest.fail(
                f"gunicorn did not answer 200 on /login/ within {SERVER_START_SECONDS} s "
                f"(last status {status}):\n{server.log_tail()}"
            )
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# --- the browser -----------------------------------------------------------------


@pytest.fixture(scope="package")
def playwright_instance(e2e_server):
    """Playwright's sync API, for this package only.

    The sync API keeps an asyncio loop on the test thread, and Django then
    refuses every query ("SynchronousOnlyOperation") — also the test
    transaction pytest-django opens for each test. Nothing here is async, so
    the check is switched off while the browser runs, and back on afterwards
    (package scope: the rest of a full run keeps the check).
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(playwright_instance):
    from playwright.sync_api import expect

    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        headless=True,
        timeout=30_000,
    )
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser, e2e_server):
    context = browser.new_context(
        base_url=e2e_server.url, viewport={"width": 1400, "height": 1000}, locale="en-GB"
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS

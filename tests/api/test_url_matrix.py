"""Every route of a tenant's host, read from the URL resolver: default deny and isolation.

The routes are not listed by hand: they are walked from ``config.urls_tenants`` (portal,
API, admin, docs), so a new URL is covered the day it is added, and a route this file
cannot fill in fails ``test_every_route_is_in_the_matrix`` until it is taught how.

- **Default deny**: anonymous gets the sign-in (API 401, portal and admin a redirect to
  their sign-in page) on every route and every method it serves, except the few in
  ``PUBLIC``, which exist to be reached before signing in.
- **Other customer**: customer Y of tenant A gets 404 on every route that names an
  object of customer X, for every method of the route (a write included: a customer's
  write on a visible object is refused with 403, on an invisible one with 404).
- **Other tenant**: provider staff of tenant B, on B's host, get 404 on the same URLs
  (the ids name rows of A's schema only) and never see A's data.
- **Admin**: only provider staff get past the admin's sign-in; customers are sent to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.agreements.models import Tier
from apps.calendars.periods import parse_period
from apps.credits.models import ServiceCredit
from apps.credits.settlement import period_settle
from apps.measurements.models import Outage, Sample, Ticket
from apps.revisions.models import CreditTier, Metric
from apps.revisions.services import (
    revision_accept,
    revision_approve,
    revision_create,
    revision_new_draft,
)
from tests.conftest import PASSWORD, TENANT_A, TENANT_B, World, agreement_for, api_as, sign_in
from tests.factories import ObjectiveFactory

NOW = datetime(2026, 11, 15, 10, tzinfo=UTC)
PERIOD = "2026-10"

# Reached before signing in, on purpose: sign-in, sign-out, password reset, the language
# switch, the e-mails' unsubscribe link (a signed token), the API's token endpoint and the
# Jira receiver that is authenticated by its secret URL (a wrong secret is a 404).
PUBLIC = {
    "portal:login",
    "portal:logout",
    "portal:password-reset",
    "portal:password-reset-sent",
    "portal:password-reset-confirm",
    "portal:password-reset-done",
    "portal:language",
    "portal:unsubscribe",
    "api-token",
    "integration-jira-secret",
    "admin:login",
    "admin:logout",
}


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    methods: tuple[str, ...]
    kwargs: tuple[str, ...]

    @property
    def area(self) -> str:
        if self.route.startswith("admin/"):
            return "admin"
        if self.route.startswith("api/"):
            return "api"
        return "portal"


def _methods(callback: Any) -> tuple[str, ...]:
    """The methods a route serves: a viewset's action map, an APIView's or a view's own."""
    actions = getattr(callback, "actions", None)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if actions:
        allowed = set(getattr(view_class, "http_method_names", actions))
        return tuple(sorted(method.upper() for method in actions if method in allowed))
    if view_class is not None:
        names = [m for m in view_class.http_method_names if m not in ("head", "options")]
        return tuple(sorted(m.upper() for m in names if hasattr(view_class, m)))
    return ("GET", "POST")  # a function view: try both


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            route = prefix + str(pattern.pattern)
            if "(?P<format>" in route or "<drf_format_suffix" in route:
                continue  # DRF's ".json" suffix twins of the same views
            kwargs = tuple(pattern.pattern.regex.groupindex)
            yield Route(namespace + pattern.name, route, _methods(pattern.callback), kwargs)


def tenant_routes() -> list[Route]:
    routes = {r.name: r for r in _walk(get_resolver("config.urls_tenants").url_patterns)}
    return sorted(routes.values(), key=lambda r: r.name)


ROUTES = tenant_routes()


# --- a world in which every route has an object of customer X to name ----------------


@dataclass
class Matrix:
    world: World
    objects: dict[str, Any]


@pytest.fixture
def matrix(world_a, time_machine) -> Matrix:
    """Customer X's agreement "M-X" with everything a route can name: revision 1 in force
    (availability and first response, with a tier), revision 2 approved and awaiting X's
    acceptance, a ticket that breached, an outage, a sample, October settled with a credit."""
    time_machine.move_to(NOW, tick=False)
    world = world_a
    with schema_context(TENANT_A.schema):
        agreement = agreement_for(
            world, "M-X", Tier.SERVICE, monthly_fee=Decimal("1000.00"), currency="EUR"
        )
        agreement.services.set([world.service])
        first = revision_create(
            agreement=agreement, acting_user=world.manager, effective_from=date(2026, 1, 1)
        )
        availability = ObjectiveFactory(revision=first, key="availability", calendar=world.calendar)
        ObjectiveFactory(
            revision=first,
            key="response",
            metric=Metric.RESPONSE_TIME,
            target=Decimal("90"),
            threshold_seconds=3600,
        )
        tier = CreditTier.objects.create(
            revision=first, objective=availability, below=Decimal("99.9"), percent=Decimal("10")
        )
        revision_approve(revision=first, acting_user=world.manager)
        revision_accept(revision=first, acting_user=world.customer_x)
        second = revision_new_draft(revision=first, acting_user=world.manager)
        revision_approve(revision=second, acting_user=world.manager)  # awaits X's acceptance

        opened = datetime(2026, 10, 6, 9, tzinfo=UTC)
        ticket = Ticket.objects.create(
            external_id="matrix-t1",
            service=world.service,
            opened_at=opened,
            first_response_at=opened + timedelta(hours=3),  # past the 1-hour threshold
            resolved_at=opened + timedelta(days=3),
        )
        outage = Outage.objects.create(
            external_id="matrix-o1",
            service=world.service,
            start=opened,
            end=opened + timedelta(hours=5),
        )
        sample = Sample.objects.create(
            external_id="matrix-s1", service=world.service, metric="latency_ms", at=opened, value=5
        )
        evaluation = period_settle(agreements=[agreement], period=parse_period(PERIOD))
        credit = ServiceCredit.objects.get(agreement=agreement, period=PERIOD)
    return Matrix(
        world,
        {
            "agreement": agreement,
            "party": world.party_x,
            "service": world.service,
            "calendar": world.calendar,
            "revision": second,
            "objective": availability,
            "credit-tier": tier,
            "ticket": ticket,
            "outage": outage,
            "sample": sample,
            "compliance": evaluation.results[0],
            "credit": credit,
        },
    )


# Per route name (a regular expression, first match wins): the URL kwargs naming objects
# of customer X. ``None``: a route that names no object of one customer (lists, forms,
# tokens) — it still gets the default-deny test.
Kwargs = Callable[[Matrix], dict[str, Any]] | None


def _pk(kind: str) -> Callable[[Matrix], dict[str, Any]]:
    return lambda m: {"pk": m.objects[kind].pk}


def _period(m: Matrix) -> dict[str, Any]:
    return {"pk": m.objects["agreement"].pk, "period": PERIOD}


def _revision(m: Matrix) -> dict[str, Any]:
    return {"pk": m.objects["agreement"].pk, "number": m.objects["revision"].number}


API_BASENAMES = {
    "agreement",
    "party",
    "service",
    "calendar",
    "revision",
    "objective",
    "credit-tier",
    "ticket",
    "outage",
    "sample",
    "compliance",
    "credit",
}

MATRIX: list[tuple[str, Kwargs]] = [
    # API: <basename>-<action>; a detail route names the object by pk.
    (r"^api-(root|token)$", None),
    (r"^integration-", None),
    (r"^(schema|api-docs)$", None),
    (r"^[a-z-]+-list$", None),
    *[
        (rf"^{re.escape(b)}-(?!list$)", _pk(b))
        for b in sorted(API_BASENAMES, key=len, reverse=True)
    ],
    # Portal.
    (r"^portal:(period|period-pdf|period-csv)$", _period),
    (r"^portal:ticket$", lambda m: {**_period(m), "ticket": m.objects["ticket"].pk}),
    (r"^portal:(revision|revision-compare|revision-accept|revision-what-if)$", _revision),
    (r"^portal:(agreement|revisions)$", _pk("agreement")),
    (r"^portal:(credit|credit-dispute)$", _pk("credit")),
    (r"^portal:(home|credits|subscriptions|view-as|language|login|logout)$", None),
    (r"^portal:password-reset", None),
    (r"^portal:unsubscribe$", None),
    # Admin: staff only; isolation between tenants is tested on the main models below.
    (r"^admin:", None),
]


def kwargs_for(route: Route) -> Kwargs:
    for pattern, kwargs in MATRIX:
        if re.search(pattern, route.name):
            return kwargs
    raise LookupError(route.name)


def _placeholder_kwargs(route: Route) -> dict[str, str]:
    """Values that fit the route's own patterns (for routes that name no X object)."""
    values = {
        "pk": "1",
        "object_id": "1",
        "number": "1",
        "ticket": "1",
        "period": PERIOD,
        "token": "x" * 20,
        "uidb64": "MQ",
        "secret": "nosuchsecret",
        "connector_id": "1",
        "app_label": "agreements",
        "content_type_id": "1",
    }
    return {name: values.get(name, "1") for name in route.kwargs}


def url_of(route: Route, kwargs: dict[str, Any]) -> str:
    """The path of ``route`` with ``kwargs``, built from the route's own pattern text."""
    text = route.route
    for name, value in kwargs.items():
        text = re.sub(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", str(value), text)
    text = text.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")
    assert "<" not in text and "(?P" not in text, (route.name, text)
    return "/" + text


def _routes_naming_objects() -> list[Route]:
    return [r for r in ROUTES if r.area != "admin" and kwargs_for(r) is not None]


# --- the tests ------------------------------------------------------------------------


def test_every_route_is_in_the_matrix():
    missing = []
    for route in ROUTES:
        try:
            kwargs_for(route)
        except LookupError:
            missing.append(route.name)
    assert not missing, f"teach tests/api/test_url_matrix.py these routes: {missing}"
    assert {r.name for r in ROUTES} >= PUBLIC, "PUBLIC names a route that is gone"
    # The walk found all three areas (a broken walk must not pass vacuously).
    assert {r.area for r in ROUTES} == {"admin", "api", "portal"}
    assert len(_routes_naming_objects()) >= 40


def _answer(client: Any, method: str, path: str) -> Any:
    return client.generic(method, path, data=b"{}", content_type="application/json")


def test_anonymous_is_denied_everywhere_but_the_public_routes(db):
    """Ids need not exist: the sign-in comes before any lookup."""
    client = Client(HTTP_HOST=TENANT_A.host)
    wrong, checked = [], 0
    for route in ROUTES:
        if route.name in PUBLIC:
            continue
        path = url_of(route, _placeholder_kwargs(route))
        for method in route.methods:
            response = _answer(client, method, path)
            status, location = response.status_code, response.get("Location", "")
            checked += 1
            if route.area == "api":
                ok = status == 401
            elif route.area == "admin":
                ok = status == 302 and location.startswith("/admin/login/")
            else:
                ok = status == 302 and location.startswith("/login/")
            if not ok:
                wrong.append((route.name, method, path, status, location))
    assert not wrong, "\n".join(map(str, wrong))
    assert checked > 300


def test_the_other_customer_gets_404_on_every_route_and_method(matrix):
    own = {area: _client_for(area, matrix.world.customer_x, TENANT_A.host) for area in AREAS}
    other = {area: _client_for(area, matrix.world.customer_y, TENANT_A.host) for area in AREAS}
    wrong = []
    for route in _routes_naming_objects():
        kwargs_builder = kwargs_for(route)
        assert kwargs_builder is not None
        path = url_of(route, kwargs_builder(matrix))
        methods = _served(route, path, own[route.area])
        # Prove the negative first: customer X, whose objects these are, reads the page.
        if "GET" in methods:
            response = _answer(own[route.area], "GET", path)
            if response.status_code == 302 and "login/" not in response["Location"]:
                # a form target (the dispute form) sends a GET on to its object's page
                response = _answer(own[route.area], "GET", response["Location"])
            status = response.status_code
            if status != 200:
                wrong.append((route.name, "GET as the owner", path, status))
        for method in methods:
            status = _answer(other[route.area], method, path).status_code
            if status != 404:
                wrong.append((route.name, method, path, status))
    assert not wrong, "\n".join(map(str, wrong))


def test_the_other_tenant_gets_404_on_every_route_and_method(matrix):
    with schema_context(TENANT_B.schema):
        from django.contrib.auth import get_user_model

        manager_b = get_user_model().objects.get(username="manager_beta")
    clients = {
        area: _client_for(area, manager_b, TENANT_B.host, schema=TENANT_B.schema) for area in AREAS
    }
    owner = {area: _client_for(area, matrix.world.customer_x, TENANT_A.host) for area in AREAS}
    reference = matrix.objects["agreement"].reference.encode()
    wrong = []
    for route in _routes_naming_objects():
        kwargs_builder = kwargs_for(route)
        assert kwargs_builder is not None
        path = url_of(route, kwargs_builder(matrix))
        for method in _served(route, path, owner[route.area]):
            response = _answer(clients[route.area], method, path)
            if response.status_code != 404 or reference in response.content:
                wrong.append((route.name, method, path, response.status_code))
    assert not wrong, "\n".join(map(str, wrong))


AREAS = ("api", "portal")


def _served(route: Route, path: str, owner: Any) -> tuple[str, ...]:
    """The route's methods; a function view (no method list to read) that answers its own
    object's owner 405 to GET is a POST-only form target."""
    if route.methods != ("GET", "POST"):
        return route.methods
    if _answer(owner, "GET", path).status_code == 405:
        return ("POST",)
    return route.methods


def _client_for(area: str, user: Any, host: str, schema: str = TENANT_A.schema) -> Any:
    if area == "api":
        with schema_context(schema):
            return api_as(APIClient(HTTP_HOST=host), user)
    client = Client(HTTP_HOST=host)
    sign_in(client, user.username, PASSWORD)
    return client


ADMIN_OBJECTS = ["agreement", "party", "revision", "ticket", "outage", "credit", "calendar"]


@pytest.mark.parametrize("kind", ADMIN_OBJECTS)
def test_the_admin_is_for_provider_staff_and_never_shows_another_tenants_rows(kind, matrix):
    obj = matrix.objects[kind]
    meta = obj._meta
    path = f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/change/"
    staff_a = Client(HTTP_HOST=TENANT_A.host)
    sign_in(staff_a, "admin_alpha")
    assert staff_a.get(path).status_code == 200  # the negative below is not vacuous

    customer = Client(HTTP_HOST=TENANT_A.host)
    sign_in(customer, matrix.world.customer_x.username)
    denied = customer.get(path)
    assert denied.status_code == 302 and denied["Location"].startswith("/admin/login/")

    staff_b = Client(HTTP_HOST=TENANT_B.host)
    sign_in(staff_b, "admin_beta")
    other = staff_b.get(path)
    assert other.status_code == 404
    assert matrix.objects["agreement"].reference.encode() not in other.content


def test_the_matrix_date_is_inside_an_open_month():
    # The fixture settles PERIOD, which must be over at NOW (credits are calculated).
    assert parse_period(PERIOD).end_day <= NOW.date() and NOW.date() < date(2026, 12, 1)

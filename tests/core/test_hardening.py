"""Bad input is a 400, an outage a 503, and the request-level safety nets hold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.core.parsers import MAX_DEPTH, nesting_depth
from tests.conftest import PASSWORD, TENANT_A, api_as, sign_in


def test_deeply_nested_json_is_a_400_even_anonymously(api_a):
    deep = "[" * 20000 + "]" * 20000
    response = api_a.post("/api/v1/auth/token/", deep, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
    assert nesting_depth(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}') == 1  # in strings


def test_deeply_nested_json_to_ingestion_is_a_400(manager_api):
    body = (
        '{"external_id": "X", "opened_at": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}"
    )
    response = manager_api.post("/api/v1/tickets/", body, content_type="application/json")
    assert response.status_code == 400


def test_nan_and_infinity_are_not_json(manager_api, world_a):
    service = world_a.service.pk
    body = (
        f'{{"external_id": "S", "service": {service}, "metric": "latency_ms", '
        '"at": "2026-10-01T10:00:00Z", "value": NaN}'
    )
    assert (
        manager_api.post("/api/v1/samples/", body, content_type="application/json").status_code
        == 400
    )


@pytest.mark.parametrize("value", ["²", "٣", "1²", "-1", "99999999999999999999", ""])
def test_unicode_digits_in_query_parameters_are_a_400(manager_api, world_a, value):
    with schema_context(TENANT_A.schema):
        revision = world_a.revision_x.pk
        agreement = world_a.agreement_x.pk
    diff = manager_api.get(f"/api/v1/revisions/{revision}/diff/", {"against": value})
    risk = manager_api.get(f"/api/v1/agreements/{agreement}/at-risk/", {"horizon": value})
    assert diff.status_code == 400 and "against" in diff.json()
    assert risk.status_code == 400 and "horizon" in risk.json()


@pytest.mark.parametrize(
    "opened_at",
    ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "1899-06-01T10:00:00+00:53"],
)
def test_instants_outside_1970_2099_are_a_400_everywhere(manager_api, world_a, opened_at):
    ticket = {"external_id": "T", "service": world_a.service.pk, "opened_at": opened_at}
    assert manager_api.post("/api/v1/tickets/", ticket).status_code == 400
    with schema_context(TENANT_A.schema):
        calendar = world_a.calendar.pk
    elapsed = manager_api.post(
        f"/api/v1/calendars/{calendar}/elapsed/",
        {"start": opened_at, "end": "2026-10-01T10:00:00+00:00"},
    )
    assert elapsed.status_code == 400 and "start" in elapsed.json()
    deadline = manager_api.post(
        f"/api/v1/calendars/{calendar}/deadline/", {"start": opened_at, "seconds": 60}
    )
    assert deadline.status_code == 400


def test_far_dates_and_periods_are_a_400(manager_api, world_a):
    with schema_context(TENANT_A.schema):
        agreement = world_a.agreement_x.pk
    patch = manager_api.patch(f"/api/v1/agreements/{agreement}/", {"term_start": "9999-06-01"})
    assert patch.status_code == 400 and "term_start" in patch.json()
    for period in ("9999-12", "1969-12", "2026-13", "٢٠٢٦-10"):
        response = manager_api.post(f"/api/v1/agreements/{agreement}/evaluate/", {"period": period})
        assert response.status_code == 400 and "period" in response.json(), period


def test_unknown_fields_are_refused(manager_api, world_a):
    with schema_context(TENANT_A.schema):
        agreement = world_a.agreement_x.pk
    response = manager_api.patch(f"/api/v1/agreements/{agreement}/", {"titel": "typo"})
    assert response.status_code == 400 and response.json() == {"titel": ["Unknown field."]}
    evaluate = manager_api.post(
        f"/api/v1/agreements/{agreement}/evaluate/", {"period": "2026-10", "force": True}
    )
    assert evaluate.status_code == 400 and "force" in evaluate.json()
    ticket = {
        "external_id": "T",
        "service": world_a.service.pk,
        "opened_at": "2026-10-01T10:00:00Z",
        "prio": "P1",
    }
    assert manager_api.post("/api/v1/tickets/", ticket).json() == {"prio": ["Unknown field."]}


def test_a_post_without_its_trailing_slash_works_in_the_api_and_is_a_404_in_the_portal(
    manager_api, world_a, client_a
):
    ticket = {
        "external_id": "NS",
        "service": world_a.service.pk,
        "opened_at": "2026-10-01T10:00:00Z",
    }
    assert manager_api.post("/api/v1/tickets", ticket).status_code == 201
    assert client_a.post("/login", {"username": "x", "password": "y"}).status_code == 404


def test_offsets_beyond_14_hours_are_a_400(manager_api, world_a):
    ticket = {
        "external_id": "O",
        "service": world_a.service.pk,
        "opened_at": "2026-10-01T10:00:00+14:30",
    }
    response = manager_api.post("/api/v1/tickets/", ticket)
    assert response.status_code == 400 and "14:00" in response.json()["opened_at"][0]


def test_healthz_answers_503_json_when_the_database_is_down(client_a, monkeypatch):
    class Down:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr("apps.core.middleware.connection", Down())
    response = client_a.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: OperationalError"
    assert response["Retry-After"] == "30"


def test_an_outage_is_a_503_with_retry_after_never_a_traceback(world_a, monkeypatch):
    """The database fails inside a request: JSON for the API, a page for the portal."""
    from apps.agreements import selectors

    def down(user):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "agreement_list_visible", down)
    monkeypatch.setattr("apps.agreements.api.agreement_list_visible", down)
    monkeypatch.setattr("apps.portal.access.agreement_scope_visible", down)
    with schema_context(TENANT_A.schema):
        api = api_as(
            APIClient(HTTP_HOST=TENANT_A.host, raise_request_exception=False), world_a.manager
        )
    response = api.get("/api/v1/agreements/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response.json() == {"detail": "The service is briefly unavailable; retry in a moment."}
    portal = Client(HTTP_HOST=TENANT_A.host, raise_request_exception=False)
    sign_in(portal, "customer_x_alpha")
    page = portal.get("/")
    assert page.status_code == 503 and "Back in a moment" in page.text
    assert "Traceback" not in page.text and "OperationalError" not in page.text


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "KEY_FUNCTION": "django_tenants.cache.make_key",
        }
    }
)
def test_signing_in_works_while_redis_is_down_and_the_lockout_holds(client_a, api_a):
    sign_in(client_a, "customer_x_alpha")
    assert client_a.get("/").status_code == 200
    for _ in range(5):
        api_a.post("/api/v1/auth/token/", {"username": "manager_alpha", "password": "no"})
    locked = api_a.post("/api/v1/auth/token/", {"username": "manager_alpha", "password": PASSWORD})
    assert locked.status_code == 429


def test_security_headers(client_a, manager_api):
    page = client_a.get("/login/")
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    sign_in(client_a, "customer_x_alpha")
    assert "no-store" in client_a.get("/")["Cache-Control"]
    assert "private" in client_a.get("/")["Cache-Control"]
    api = manager_api.get("/api/v1/agreements/")
    assert "no-store" in api["Cache-Control"] and "private" in api["Cache-Control"]


@override_settings(TRUSTED_PROXY_DEPTH=1)
def test_the_lockout_is_keyed_on_the_client_behind_the_proxy(client_a):
    """Through one trusted proxy, two clients are two addresses: one locked out client does
    not lock out the other."""
    mallory = {"HTTP_X_FORWARDED_FOR": "198.51.100.7", "REMOTE_ADDR": "10.0.0.2"}
    alice = {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "REMOTE_ADDR": "10.0.0.2"}
    for _ in range(5):
        client_a.post("/login/", {"username": "customer_x_alpha", "password": "no"}, **mallory)
    assert (
        client_a.post(
            "/login/", {"username": "customer_x_alpha", "password": "no"}, **mallory
        ).status_code
        == 429
    )
    ok = client_a.post("/login/", {"username": "customer_x_alpha", "password": PASSWORD}, **alice)
    assert ok.status_code == 302


def test_workflow_locks_take_the_agreement_before_the_revision(world_a):
    """Approve, accept and new draft lock in one order (agreement, then revision), so two of
    them on one agreement queue instead of deadlocking."""
    from apps.revisions.services import revision_accept, revision_approve, revision_new_draft
    from tests.factories import RevisionFactory

    def lock_order(work) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            work()
        return [
            "agreement" if "agreements_agreement" in q["sql"].split("FROM")[1][:40] else "revision"
            for q in queries
            if "FOR UPDATE" in q["sql"] and "FROM" in q["sql"]
        ]

    with schema_context(TENANT_A.schema):
        draft = RevisionFactory(
            agreement=world_a.agreement_x, effective_from=datetime(2026, 6, 1, tzinfo=UTC).date()
        )
        assert (
            lock_order(lambda: revision_approve(revision=draft, acting_user=world_a.manager))[0]
            == "agreement"
        )
        assert (
            lock_order(lambda: revision_accept(revision=draft, acting_user=world_a.customer_x))[0]
            == "agreement"
        )
        assert (
            lock_order(lambda: revision_new_draft(revision=draft, acting_user=world_a.manager))[0]
            == "agreement"
        )

"""Who may post to the receivers, Jira's secret URL, Jira's bad payloads, the OpenAPI schema,
and the demo's connectors."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.agreements.models import Service
from apps.demo import integrations as demo_integrations
from apps.integrations.models import Connector
from apps.integrations.services import connector_rotate_secret
from apps.measurements.models import Outage, Ticket
from tests.conftest import TENANT_A, TENANT_B, api_as, sign_in
from tests.integrations.conftest import AM_URL, JIRA_URL, payload, post

ENDPOINTS = [(AM_URL, "alertmanager", "firing"), (JIRA_URL, "jira", "issue_created")]


def _nothing_written() -> bool:
    with schema_context(TENANT_A.schema):
        return not Outage.objects.exists() and not Ticket.objects.exists()


@pytest.mark.parametrize(("url", "vendor", "name"), ENDPOINTS)
def test_anonymous_customer_and_other_tenant_are_refused(
    connectors, world_b, api_a, api_b, url, vendor, name
):
    body = payload(vendor, name)
    anonymous = post(api_a, url, body)
    assert anonymous.status_code == 401

    with schema_context(TENANT_A.schema):
        api_as(api_a, connectors.world.customer_x)
    assert post(api_a, url, body).status_code == 403

    with schema_context(TENANT_B.schema):
        api_as(api_b, world_b.manager)
    stranger = APIClient(HTTP_HOST=TENANT_A.host)
    stranger.credentials(HTTP_AUTHORIZATION=api_b._credentials["HTTP_AUTHORIZATION"])
    assert post(stranger, url, body).status_code == 401
    assert _nothing_written()


@pytest.mark.parametrize(("url", "vendor", "name"), ENDPOINTS)
def test_post_only(connectors, manager_api, url, vendor, name):
    assert manager_api.get(url).status_code == 405
    assert manager_api.put(url, payload(vendor, name), format="json").status_code == 405


def test_a_session_works_too(connectors, client_a):
    sign_in(client_a, connectors.world.manager.username)
    response = post(client_a, AM_URL, payload("alertmanager", "firing"))
    assert response.status_code == 200, response.content


# --- the Jira secret URL --------------------------------------------------------------


def _secret_url(connector: Connector, secret: str | None = None) -> str:
    return f"{JIRA_URL}{connector.pk}/{secret or connector.secret}/"


def test_the_secret_url_takes_jira_events_without_a_header(connectors, api_a):
    jira = connectors.jira
    response = post(api_a, _secret_url(jira), payload("jira", "issue_created"))
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1
    # Without the trailing slash too (the router's rule for every API route).
    again = post(api_a, _secret_url(jira).rstrip("/"), payload("jira", "issue_created"))
    assert again.json()["updated"] == 1


def test_a_wrong_secret_or_connector_is_a_404(connectors, api_a, world_b):
    jira, am = connectors.jira, connectors.alertmanager
    body = payload("jira", "issue_created")
    for url in (
        _secret_url(jira, "x" + jira.secret[1:]),
        _secret_url(jira, jira.secret[:-1]),
        f"{JIRA_URL}{am.pk}/{am.secret}/",  # not a Jira connector
        f"{JIRA_URL}999999/{jira.secret}/",
    ):
        assert post(api_a, url, body).status_code == 404, url
    # Another tenant's host knows nothing of this connector.
    other = APIClient(HTTP_HOST=TENANT_B.host)
    assert post(other, _secret_url(jira), body).status_code == 404
    with schema_context(TENANT_A.schema):
        rotated = connector_rotate_secret(connector=jira, acting_user=connectors.world.admin)
    assert post(api_a, _secret_url(jira, jira.secret), body).status_code == 200
    assert rotated.secret  # the fixture object now holds the new secret
    with schema_context(TENANT_A.schema):
        Connector.objects.filter(pk=jira.pk).update(active=False)
    assert post(api_a, _secret_url(jira), body).status_code == 404


def test_the_old_secret_stops_working_on_rotation(connectors, api_a):
    jira = connectors.jira
    old = _secret_url(jira)
    with schema_context(TENANT_A.schema):
        connector_rotate_secret(connector=jira, acting_user=connectors.world.admin)
    assert post(api_a, old, payload("jira", "issue_created")).status_code == 404
    assert post(api_a, _secret_url(jira), payload("jira", "issue_created")).status_code == 200


def test_the_secret_url_needs_a_staff_run_as_user(connectors, api_a):
    jira = connectors.jira
    with schema_context(TENANT_A.schema):
        Connector.objects.filter(pk=jira.pk).update(run_as=connectors.world.customer_x)
    assert post(api_a, _secret_url(jira), payload("jira", "issue_created")).status_code == 403
    with schema_context(TENANT_A.schema):
        Connector.objects.filter(pk=jira.pk).update(run_as=None)
    assert post(api_a, _secret_url(jira), payload("jira", "issue_created")).status_code == 403
    assert _nothing_written()


# --- Jira's bad payloads ---------------------------------------------------------------


def _jira(name="issue_created", **changes):
    body = payload("jira", name)
    for path, value in changes.items():
        node = body
        *parents, leaf = path.split("__")
        for part in parents:
            node = node[part]
        if value is KeyError:
            del node[leaf]
        else:
            node[leaf] = value
    return body


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ([], ["non_field_errors"]),
        ({}, ["webhookEvent"]),
        (_jira(webhookEvent=7), ["webhookEvent"]),
        (_jira(webhookEvent="x" * 10_000), ["webhookEvent"]),
        (_jira(issue=KeyError), ["issue"]),
        (_jira(issue="OPS-42"), ["issue"]),
        (_jira(issue__key=KeyError), ["issue", "key"]),
        (_jira(issue__key="OPS 42; DROP"), ["issue", "key"]),
        (_jira(issue__key=["OPS-42"]), ["issue", "key"]),
        (_jira(issue__fields=KeyError), ["issue", "fields"]),
        (_jira(issue__fields__created=KeyError), ["issue", "fields", "created"]),
        (_jira(issue__fields__created="2026-10-05 09:12"), ["issue", "fields", "created"]),
        (_jira(issue__fields__created="2026-10-05T09:12:44.123"), ["issue", "fields", "created"]),
        (_jira(issue__fields__components="Web Hosting"), ["issue", "fields", "components"]),
        (_jira(issue__fields__components=[7]), ["issue", "fields", "components", "0"]),
        (_jira(issue__fields__priority="High"), ["issue", "fields", "priority"]),
        (_jira(issue__fields__priority={"name": "x" * 256}), ["issue", "fields", "priority"]),
        (_jira(issue__fields__project={"key": "K" * 65}), ["issue", "fields", "project"]),
        (_jira(issue__fields__resolutiondate="soon"), ["issue", "fields", "resolutiondate"]),
        (_jira(timestamp="1791184364123"), ["timestamp"]),
        (_jira(timestamp=True), ["timestamp"]),
        (_jira(timestamp=-1), ["timestamp"]),
        (_jira(timestamp=10**30), ["timestamp"]),
        (_jira(timestamp=KeyError, issue__fields__updated=KeyError), ["timestamp"]),
        (_jira(changelog="10300"), ["changelog"]),
        (_jira(changelog__items={"field": "status"}), ["changelog", "items"]),
        (_jira(changelog__items=[None]), ["changelog", "items", "0"]),
        (
            _jira(
                "issue_updated_waiting", changelog__items=[{"fieldId": "status", "toString": ["x"]}]
            ),
            ["changelog", "items", "0", "toString"],
        ),
        (_jira("comment_created", comment=KeyError), ["comment"]),
        (_jira("comment_created", comment__created=KeyError), ["comment", "created"]),
        (_jira("comment_created", comment__jsdPublic="yes"), ["comment", "jsdPublic"]),
        (_jira("comment_created", comment__id={"id": 1}), ["comment", "id"]),
    ],
)
def test_malformed_jira_payloads_are_a_400_naming_the_field_and_write_nothing(
    connectors, manager_api, body, where
):
    response = post(manager_api, JIRA_URL, body)
    assert response.status_code == 400, response.content
    node = response.json()
    for part in where:
        node = node[part]
    assert node
    assert _nothing_written()
    with schema_context(TENANT_A.schema):
        from apps.integrations.models import JiraIssue

        assert not JiraIssue.objects.exists()


def test_a_huge_body_is_refused_before_parsing(connectors, manager_api):
    huge = '{"webhookEvent": "' + "x" * (8 * 1024 * 1024) + '"}'
    response = manager_api.post(JIRA_URL, huge, content_type="application/json")
    assert response.status_code == 400
    assert "MB" in response.json()["non_field_errors"][0]


# --- schema and demo --------------------------------------------------------------------


def test_openapi_lists_both_receivers(manager_api):
    schema = manager_api.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/integrations/alertmanager/",
        "/api/v1/integrations/jira/",
        "/api/v1/integrations/jira/{connector_id}/{secret}/",
    ):
        assert set(paths[path]) == {"post"}, path
        operation = paths[path]["post"]
        assert {"200", "400"} <= set(operation["responses"])
        assert operation["requestBody"]["content"]["application/json"]["schema"]
    secret = paths["/api/v1/integrations/jira/{connector_id}/{secret}/"]["post"]
    assert secret.get("security", []) in ([], [{}])  # no credentials: the secret is in the path


def test_the_demo_seeder_configures_working_connectors(world_a, api_a):
    users = get_user_model().objects
    with schema_context(TENANT_A.schema):
        admin = users.create(username="admin", is_staff=True, is_superuser=True)
        manager = users.create(username="manager", is_staff=True)
        for name in ("Web Hosting", "Managed Kubernetes", "Service Desk"):
            Service.objects.create(name=name)
        demo_integrations.seed(tenant=None, password="")
        demo_integrations.seed(tenant=None, password="")  # idempotent
        assert Connector.objects.count() == 2
        jira = Connector.objects.get(kind="jira")
        api_as(api_a, manager)
        assert admin.is_staff

    firing = post(api_a, AM_URL, payload("alertmanager", "firing"))
    assert firing.json()["created"] == 2
    created = post(
        APIClient(HTTP_HOST=TENANT_A.host), _secret_url(jira), payload("jira", "issue_created")
    )
    assert created.json()["created"] == 1
    with schema_context(TENANT_A.schema):
        assert Ticket.objects.get().service.name == "Web Hosting"
        assert {o.service.name for o in Outage.objects.all()} == {"Web Hosting"}

"""The provider admin: connectors with their mappings inline, Jira issues read-only."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from apps.integrations.models import Connector, JiraIssue, parse_priority_map
from tests.conftest import TENANT_A
from tests.integrations.conftest import JIRA_URL, payload, post


def test_connector_pages_and_the_jira_url(connectors, admin_client):
    jira = connectors.jira
    assert admin_client.get("/admin/integrations/connector/").status_code == 200
    page = admin_client.get(f"/admin/integrations/connector/{jira.pk}/change/")
    assert page.status_code == 200
    assert jira.jira_webhook_path in page.content.decode()
    page = admin_client.get(f"/admin/integrations/connector/{connectors.alertmanager.pk}/change/")
    assert "/api/v1/integrations/alertmanager/" in page.content.decode()


def test_adding_a_connector_with_mappings(connectors, admin_client):
    data = {
        "kind": "alertmanager",
        "name": "Second Alertmanager",
        "active": "on",
        "service_label": "team",
        "maintenance_label": "maintenance",
        "cause_label": "cause",
        "severity_label": "severity",
        "outage_severities": "critical",
        "customer_label": "",
        "initial_status": "Open",
        "waiting_statuses": "Waiting for customer",
        "priority_map": "Highest = P1",
        "run_as": "",
        "mappings-TOTAL_FORMS": "1",
        "mappings-INITIAL_FORMS": "0",
        "mappings-0-value": "payments",
        "mappings-0-service": str(connectors.desk.pk),
    }
    response = admin_client.post("/admin/integrations/connector/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with schema_context(TENANT_A.schema):
        added = Connector.objects.get(name="Second Alertmanager")
        assert list(added.mappings.values_list("value", "service")) == [
            ("payments", connectors.desk.pk)
        ]
    bad = admin_client.post(
        "/admin/integrations/connector/add/",
        {**data, "name": "Third", "service_label": "2team", "priority_map": "Highest P1"},
    )
    assert bad.status_code == 200  # the form again, with the errors
    assert bad.context["adminform"].form.errors.keys() >= {"service_label", "priority_map"}


def test_rotating_the_secret(connectors, admin_client, api_a):
    jira = connectors.jira
    response = admin_client.post(
        "/admin/integrations/connector/",
        {"action": "rotate_secret", "_selected_action": [jira.pk]},
    )
    assert response.status_code == 302
    with schema_context(TENANT_A.schema):
        fresh = Connector.objects.get(pk=jira.pk)
    assert fresh.secret != jira.secret
    body = payload("jira", "issue_created")
    assert post(api_a, f"{JIRA_URL}{jira.pk}/{jira.secret}/", body).status_code == 404
    assert post(api_a, f"{JIRA_URL}{jira.pk}/{fresh.secret}/", body).status_code == 200


def test_jira_issues_are_read_only(connectors, admin_client, manager_api):
    post(manager_api, JIRA_URL, payload("jira", "issue_created"))
    with schema_context(TENANT_A.schema):
        issue = JiraIssue.objects.get()
    assert admin_client.get("/admin/integrations/jiraissue/").status_code == 200
    detail = admin_client.get(f"/admin/integrations/jiraissue/{issue.pk}/change/")
    assert detail.status_code == 200 and "OPS-42" in detail.content.decode()
    assert admin_client.get("/admin/integrations/jiraissue/add/").status_code == 403


def test_priority_map_lines():
    assert parse_priority_map("Highest = P1\n\n# comment\n  high=P2 ") == {
        "highest": "P1",
        "high": "P2",
    }
    for bad in ("Highest", "= P1", "Highest = ", "Highest = " + "P" * 17):
        with pytest.raises(ValidationError):
            parse_priority_map(bad)


def test_run_as_must_be_provider_staff(connectors):
    with schema_context(TENANT_A.schema):
        connector = Connector(kind="jira", name="J", run_as=connectors.world.customer_x)
        with pytest.raises(ValidationError) as raised:
            connector.full_clean()
        assert "run_as" in raised.value.message_dict

"""POST /api/v1/integrations/jira/ with Jira's own webhook bodies -> one ticket per issue.

The fixture day of OPS-42 (tests/fixtures/jira/README.md), Europe/Berlin (+02:00):
created 09:12:44.123, In Progress 09:27:05.481, public comment 10:02:31.907,
Waiting for customer 10:03:12.350, back In Progress 13:48:20.064, Resolved
16:55:09.733.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django_tenants.utils import schema_context

from apps.integrations.models import Connector, JiraIssue, ServiceMapping
from apps.measurements.models import Ticket
from tests.conftest import TENANT_A
from tests.integrations.conftest import JIRA_DAY, JIRA_URL, at, payload, post

OPENED = at("2026-10-05T09:12:44.123+02:00")
IN_PROGRESS = at("2026-10-05T09:27:05.481+02:00")
COMMENT = at("2026-10-05T10:02:31.907+02:00")
WAITING = at("2026-10-05T10:03:12.350+02:00")
BACK = at("2026-10-05T13:48:20.064+02:00")
RESOLVED = at("2026-10-05T16:55:09.733+02:00")


def send(client, name: str, **changes):
    body = payload("jira", name)
    body.update(changes)
    response = post(client, JIRA_URL, body)
    assert response.status_code == 200, response.content
    return response.json()


def ticket() -> Ticket | None:
    with schema_context(TENANT_A.schema):
        found = Ticket.objects.filter(external_id="jira-OPS-42").first()
        if found is not None:
            found.pause_list = [(p.start, p.end, p.reason) for p in found.pauses.all()]
        return found


def state(found: Ticket | None) -> tuple | None:
    if found is None:
        return None
    return (
        found.service_id,
        found.priority,
        found.opened_at,
        found.first_response_at,
        found.resolved_at,
        found.closed_at,
        found.customer_id,
        found.pause_list,
    )


def test_the_fixture_day_in_order_builds_the_ticket_step_by_step(connectors, manager_api):
    created = send(manager_api, "issue_created")
    assert created["created"] == 1 and created["skipped"] == []
    opened = ticket()
    assert opened is not None and created["ticket"] == opened.pk
    assert opened.opened_at == OPENED
    assert (opened.first_response_at, opened.resolved_at, opened.pause_list) == (None, None, [])
    # The component "Web Hosting" is mapped and wins over the project OPS; High is P2.
    assert (opened.service_id, opened.priority) == (connectors.hosting.pk, "P2")

    assert send(manager_api, "issue_updated_in_progress")["updated"] == 1
    assert ticket().first_response_at == IN_PROGRESS

    send(manager_api, "comment_created")  # later than the move: no change
    assert ticket().first_response_at == IN_PROGRESS

    send(manager_api, "issue_updated_waiting")
    assert ticket().pause_list == [(WAITING, None, "waiting_customer")]

    send(manager_api, "issue_updated_back")
    assert ticket().pause_list == [(WAITING, BACK, "waiting_customer")]
    assert ticket().resolved_at is None

    resolved = send(manager_api, "issue_updated_resolved")
    assert resolved == {"created": 0, "updated": 1, "ticket": opened.pk, "skipped": []}
    final = ticket()
    assert (final.opened_at, final.first_response_at, final.resolved_at) == (
        OPENED,
        IN_PROGRESS,
        RESOLVED,
    )
    ((start, end, _),) = final.pause_list
    assert end - start == timedelta(hours=3, minutes=45, seconds=7, milliseconds=714)
    with schema_context(TENANT_A.schema):
        assert Ticket.objects.count() == 1
        issue = JiraIssue.objects.get(key="OPS-42")
        assert [e["status"] for e in issue.status_history] == [
            "Open",  # from the create event's changelog item written "Status"
            "In Progress",
            "Waiting for customer",
            "In Progress",
            "Resolved",
        ]
        assert issue.ticket_id == final.pk


def test_a_public_comment_before_any_transition_is_the_first_response(connectors, manager_api):
    send(manager_api, "issue_created")
    send(manager_api, "comment_created")
    assert ticket().first_response_at == COMMENT
    send(manager_api, "issue_updated_waiting")  # In Progress -> Waiting: not out of "Open"
    assert ticket().first_response_at == COMMENT
    send(manager_api, "issue_updated_in_progress")  # arrives late, happened earlier
    assert ticket().first_response_at == IN_PROGRESS


@pytest.mark.parametrize(
    "change",
    [
        {"jsdPublic": False},  # an internal note
        {"author": {"accountId": "qm:1", "accountType": "customer"}},  # the customer writes
    ],
)
def test_internal_notes_and_customer_comments_are_no_response(connectors, manager_api, change):
    send(manager_api, "issue_created")
    body = payload("jira", "comment_created")
    body["comment"].update(change)
    assert post(manager_api, JIRA_URL, body).status_code == 200
    assert ticket().first_response_at is None


def test_a_comment_without_jsd_public_counts_as_public(connectors, manager_api):
    send(manager_api, "issue_created")
    body = payload("jira", "comment_created")
    del body["comment"]["jsdPublic"]  # plain Jira Software: no such key
    post(manager_api, JIRA_URL, body)
    assert ticket().first_response_at == COMMENT


def _final_state(client, names: list[str]) -> tuple | None:
    for name in names:
        send(client, name)
    return state(ticket())


ORDERS = {
    "reversed": list(reversed(JIRA_DAY)),
    "each twice": [name for name in JIRA_DAY for _ in range(2)],
    "replayed at the end": [*JIRA_DAY, *JIRA_DAY[:3]],
    **{f"shuffled {seed}": random.Random(seed).sample(JIRA_DAY, len(JIRA_DAY)) for seed in (1, 2)},
}


@pytest.mark.parametrize("order", list(ORDERS))
def test_replays_and_any_order_give_the_same_ticket(connectors, manager_api, order):
    expected = (
        connectors.hosting.pk,
        "P2",
        OPENED,
        IN_PROGRESS,
        RESOLVED,
        None,
        None,
        [(WAITING, BACK, "waiting_customer")],
    )
    assert _final_state(manager_api, ORDERS[order]) == expected
    with schema_context(TENANT_A.schema):
        assert Ticket.objects.count() == 1
        assert JiraIssue.objects.count() == 1


def test_the_same_event_twice_answers_updated(connectors, manager_api):
    assert send(manager_api, "issue_created")["created"] == 1
    again = send(manager_api, "issue_created")
    assert (again["created"], again["updated"]) == (0, 1)


def test_a_comment_first_waits_for_the_issue(connectors, manager_api):
    early = send(manager_api, "comment_created")
    assert early["ticket"] is None and early["created"] == 0
    assert "creation time" in early["skipped"][0]["reason"]
    assert ticket() is None
    send(manager_api, "issue_created")
    assert ticket().first_response_at == COMMENT


def test_reopening_clears_the_resolution_until_resolved_again(connectors, manager_api):
    for name in JIRA_DAY:
        send(manager_api, name)
    reopened = payload("jira", "issue_updated_back")
    reopened["timestamp"] = 1791220000000  # 2026-10-05T17:46:40Z, after the resolution
    reopened["changelog"] = {
        "id": "10320",
        "items": [
            {"field": "resolution", "fieldId": "resolution", "from": "10000", "to": None},
            {"field": "status", "fieldId": "status", "fromString": "Resolved", "toString": "Open"},
        ],
    }
    post(manager_api, JIRA_URL, reopened)
    assert ticket().resolved_at is None
    send(manager_api, "issue_updated_resolved")  # a late replay of the old resolution
    assert ticket().resolved_at is None


def test_waiting_at_the_end_is_an_open_pause_and_entering_twice_is_one_pause(
    connectors, manager_api
):
    send(manager_api, "issue_created")
    send(manager_api, "issue_updated_waiting")
    also_waiting = payload("jira", "issue_updated_back")
    also_waiting["changelog"]["items"][0]["toString"] = "waiting for CUSTOMER"
    post(manager_api, JIRA_URL, also_waiting)
    assert ticket().pause_list == [(WAITING, None, "waiting_customer")]


def test_project_mapping_when_no_component_is_mapped_and_priorities(connectors, manager_api):
    body = payload("jira", "issue_created")
    body["issue"]["fields"]["components"] = [{"name": "Databases"}]
    body["issue"]["fields"]["priority"] = {"name": "highest"}
    post(manager_api, JIRA_URL, body)
    assert (ticket().service_id, ticket().priority) == (connectors.desk.pk, "P1")
    body["issue"]["fields"]["priority"] = {"name": "Blocker"}  # not in the map: none
    post(manager_api, JIRA_URL, body)
    assert ticket().priority == ""


def test_an_unmapped_issue_is_kept_and_ticketed_once_a_mapping_exists(connectors, manager_api):
    with schema_context(TENANT_A.schema):
        ServiceMapping.objects.filter(connector=connectors.jira).delete()
    created = send(manager_api, "issue_created")
    assert created["ticket"] is None
    assert created["skipped"] == [
        {
            "key": "OPS-42",
            "reason": "no service mapped to its components ('Web Hosting') or project 'OPS'",
        }
    ]
    send(manager_api, "issue_updated_in_progress")
    assert ticket() is None
    with schema_context(TENANT_A.schema):
        ServiceMapping.objects.create(
            connector=connectors.jira, value="OPS", service=connectors.desk
        )
    send(manager_api, "issue_updated_waiting")
    rebuilt = ticket()
    assert (rebuilt.service_id, rebuilt.opened_at, rebuilt.first_response_at) == (
        connectors.desk.pk,
        OPENED,
        IN_PROGRESS,
    )


@pytest.mark.parametrize("event", ["jira:issue_deleted", "worklog_updated", "comment_updated"])
def test_other_events_are_skipped(connectors, manager_api, event):
    body = payload("jira", "issue_created") | {"webhookEvent": event}
    response = post(manager_api, JIRA_URL, body).json()
    assert response["created"] == 0 and response["skipped"][0]["reason"].startswith("event")
    assert ticket() is None


def test_another_connectors_issue_key_is_refused(connectors, manager_api):
    send(manager_api, "issue_created")
    with schema_context(TENANT_A.schema):
        second = Connector.objects.create(kind="jira", name="Jira 2")
    response = post(
        manager_api, f"{JIRA_URL}?connector={second.pk}", payload("jira", "issue_created")
    )
    assert response.status_code == 400 and "another" in response.json()["issue"]["key"][0]


def test_the_ticket_evaluates_like_an_api_ingested_one(engine, connectors, manager_api):
    with schema_context(TENANT_A.schema):
        ServiceMapping.objects.filter(value="Web Hosting").update(service=engine.service)
        engine.objective(
            "resolution",
            "resolution_time",
            "90",
            calendar=engine.always,
            threshold_seconds=4 * 3600,
        )
        engine.objective(
            "response", "response_time", "90", calendar=engine.always, threshold_seconds=15 * 60
        )
        engine.bind()
    for name in JIRA_DAY:
        send(manager_api, name)
    url = f"/api/v1/agreements/{engine.agreement.pk}/evaluate/"

    def evaluated() -> dict:
        response = manager_api.post(url, {"period": "2026-10"}, format="json")
        assert response.status_code == 200, response.content
        return {r["key"]: (r["attained"], r["status"], r["data_points"]) for r in response.json()}

    from_jira = evaluated()
    # 7:42 open, 3:45 of it waiting on the customer: resolved within 4 hours (without the
    # pause it would miss); answered after 14 minutes.
    assert from_jira == {"resolution": ("100.0000", "met", 1), "response": ("100.0000", "met", 1)}

    before = state(ticket())
    same = {
        "external_id": "jira-OPS-42",
        "service": engine.service.pk,
        "priority": "P2",
        "opened_at": "2026-10-05T09:12:44.123+02:00",
        "first_response_at": "2026-10-05T09:27:05.481+02:00",
        "resolved_at": "2026-10-05T16:55:09.733+02:00",
        "pauses": [
            {"start": "2026-10-05T10:03:12.350+02:00", "end": "2026-10-05T13:48:20.064+02:00"}
        ],
    }
    ingested = manager_api.post("/api/v1/tickets/", same, format="json")
    assert ingested.json()["updated"] == 1  # the very row the connector wrote
    assert state(ticket()) == before
    assert evaluated() == from_jira


def test_the_status_an_issue_was_created_in_counts_as_initial(connectors, manager_api):
    """A JSM workflow that starts in "Waiting for support" needs no initial_status setting."""
    body = payload("jira", "issue_created")
    for item in body["changelog"]["items"]:
        if item["fieldId"] == "status":
            item["toString"] = "Waiting for support"
    post(manager_api, JIRA_URL, body)
    moved = payload("jira", "issue_updated_in_progress")
    moved["changelog"]["items"][0]["fromString"] = "Waiting for support"
    post(manager_api, JIRA_URL, moved)
    assert ticket().first_response_at == IN_PROGRESS

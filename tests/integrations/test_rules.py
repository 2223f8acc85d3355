"""The Jira rules without HTTP: any order and any replay of an issue's events gives the same
state (hypothesis), and the derivation rules on small hand-made histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.integrations.alertmanager import Alert
from apps.integrations.jira import JiraEvent, StatusChange, issue_apply, issue_derive
from apps.integrations.models import Connector, JiraIssue

T0 = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)
STATUSES = ["Open", "In Progress", "Waiting for customer", "Resolved"]


def _connector() -> Connector:
    return Connector(kind="jira", name="J")


def _issue() -> JiraIssue:
    return JiraIssue(key="OPS-1", external_id="jira-OPS-1")


def _timeline(steps: list[tuple[int, str, bool]]) -> list[JiraEvent]:
    """Created in Open at T0, then per step: minutes later, a new status or a comment."""
    events = [
        JiraEvent(
            name="jira:issue_created",
            key="OPS-1",
            event="changelog:1",
            at=T0,
            opened_at=T0,
            project_key="OPS",
            components=[],
            priority="High",
            resolution=(None,),
            status_changes=[StatusChange("Open", None, T0)],
            issue_fields=True,
        )
    ]
    status, at = "Open", T0
    for number, (minutes, target, public) in enumerate(steps, start=2):
        at = at + timedelta(minutes=minutes + 1)
        if target == "comment":
            events.append(
                JiraEvent(
                    name="comment_created",
                    key="OPS-1",
                    event=f"comment:{number}",
                    at=at,
                    public_comment_at=at if public else None,
                )
            )
            continue
        events.append(
            JiraEvent(
                name="jira:issue_updated",
                key="OPS-1",
                event=f"changelog:{number}",
                at=at,
                opened_at=T0,
                project_key="OPS",
                components=[],
                priority="High" if number % 2 else "Low",
                resolution=(at if target == "Resolved" else None,),
                status_changes=[StatusChange(target, status, at)],
                issue_fields=True,
            )
        )
        status = target
    return events


def _state(events: list[JiraEvent]) -> tuple:
    issue, connector = _issue(), _connector()
    for event in events:
        issue_apply(issue, event)
        issue_derive(issue, connector)
    return (
        issue.opened_at,
        issue.first_response_at,
        issue.resolved_at,
        issue.pauses,
        issue.jira_priority,
        [e["status"] for e in issue.status_history],
    )


steps = st.lists(
    st.tuples(
        st.integers(0, 600), st.sampled_from([*STATUSES[1:], "Open", "comment"]), st.booleans()
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(steps=steps, data=st.data())
def test_any_order_and_any_replay_give_the_same_state(steps, data):
    events = _timeline(steps)
    expected = _state(events)
    arrived = data.draw(st.permutations(events + data.draw(st.lists(st.sampled_from(events)))))
    assert _state(arrived) == expected


def test_derivation_on_a_small_history():
    events = _timeline(
        [
            (4, "comment", False),  # internal: no response
            (9, "Waiting for customer", True),  # 07:16 out of Open: first response, pause
            (29, "In Progress", True),  # 07:46 pause ends
            (59, "Waiting for customer", True),  # 08:46 pause again
            (59, "Resolved", True),  # 09:46 resolved, pause ends
        ]
    )
    issue, connector = _issue(), _connector()
    for event in events:
        issue_apply(issue, event)
    issue_derive(issue, connector)
    minute = timedelta(minutes=1)
    assert issue.first_response_at == T0 + 15 * minute
    assert issue.resolved_at == T0 + 165 * minute
    assert issue.pauses == [
        {"start": (T0 + 15 * minute).isoformat(), "end": (T0 + 45 * minute).isoformat()},
        {"start": (T0 + 105 * minute).isoformat(), "end": (T0 + 165 * minute).isoformat()},
    ]
    assert issue.jira_priority == "Low"  # from the latest issue event


def test_instants_before_the_creation_are_moved_up_to_it():
    events = _timeline([(0, "Waiting for customer", True)])
    skewed = events[1]
    skewed.at = T0 - timedelta(seconds=2)
    skewed.status_changes = [StatusChange("Waiting for customer", "Open", skewed.at)]
    issue = _issue()
    for event in events:
        issue_apply(issue, event)
    issue_derive(issue, _connector())
    assert issue.first_response_at == T0
    assert issue.pauses == [{"start": T0.isoformat(), "end": None}]


def test_alert_external_ids_are_normalised_to_utc_microseconds():
    local = datetime.fromisoformat("2026-10-05T09:09:30.5123456+02:00")
    alert = Alert(0, "00ff", "firing", {}, {}, local, None)
    assert alert.external_id == "am-00ff-2026-10-05T07:09:30.512345Z"

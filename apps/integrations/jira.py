"""Jira / Jira Service Management webhooks -> tickets.

Events used (docs: developer.atlassian.com/cloud/jira/platform/webhooks/; samples in
tests/fixtures/jira/): ``jira:issue_created``, ``jira:issue_updated`` and
``comment_created``. Any other ``webhookEvent`` is answered 200 and skipped, so
ticking more events in Jira does no harm. Only the keys below are read.

What an event tells (its time ``at`` is the top-level ``timestamp``, epoch
milliseconds; without it ``issue.fields.updated``, or the comment's ``created``):

- ``issue.key`` -> the ticket's ``external_id`` ``jira-<key>``.
- ``issue.fields.created`` -> ``opened_at`` (required in ``jira:issue_created``).
- Each ``changelog.items[]`` entry whose ``fieldId`` is ``status`` (or whose ``field``
  is, in any case: the create event writes ``"Status"``) -> a status change
  ``{status: toString, from: fromString, at}``. A created issue without one gets
  its ``fields.status.name`` at ``created``.
- ``fields.resolutiondate`` (or, without that key, a ``resolution`` changelog item:
  set -> resolved at ``at``, cleared -> not resolved) -> the resolution as of ``at``.
- ``comment`` (in ``comment_created``, or a ``jira:issue_updated`` that carries one)
  -> a public comment at its ``created`` when ``jsdPublic`` is true or absent and
  its author's ``accountType`` is not ``customer`` (a customer's own comment is no
  response).
- ``fields.project.key``, ``fields.components[].name``, ``fields.priority.name``
  -> the issue's service and priority (issue events only: a comment event's issue
  has no components).

How the ticket is rebuilt (``issue_derive``, on every event, from all facts kept in
the issue's ``JiraIssue`` row, never from the order they came in):

- ``first_response_at``: the earlier of the first change out of an initial
  status into another one, and the first public comment. Initial are the
  connector's ``initial_status`` (default "Open") and the status the issue was
  created in (so a workflow starting elsewhere, e.g. JSM's "Waiting for
  support", needs no setting).
- ``resolved_at``: the resolution date told by the latest event (by ``at``); a
  reopened issue has none until it is resolved again.
- pauses: walking the status changes in time order, a pause starts on entering one
  of the ``waiting_statuses`` (default "Waiting for customer") and ends on leaving
  them; still waiting: an open pause. Reason ``waiting_customer``.
- service: the first of the issue's components with a ServiceMapping, else its
  project key's mapping; none: the event is kept, but no ticket is written
  (skipped) until a mapping exists and the next event arrives.
- priority: the connector's ``priority_map`` (``Highest = P1`` …); unlisted: none.
- Instants before ``opened_at`` (clock skew between Jira's nodes) are moved up to it,
  and the status an issue was created in always comes first in its history.

Idempotent and order-proof: a status change is stored with its event's key
(``changelog.id``, else ``comment.id``, else ``webhookEvent`` + ``timestamp``) and a
replay replaces it; the issue's fields and resolution are taken from an event only
if it is not older than the one they came from; the first public comment is a
minimum. Replaying any event, or receiving events in any order, gives the same
ticket. Status changes whose webhook never arrived cannot be known: Jira retries
failed deliveries, so answer 2xx only when the event is stored (this endpoint does).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apps.core.timestamps import EARLIEST, LATEST
from apps.integrations.models import Connector, JiraIssue
from apps.integrations.payloads import Problems, instant, iso, mapping, text
from apps.measurements.models import PauseReason

EVENTS = ("jira:issue_created", "jira:issue_updated", "comment_created")
ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated")
ISSUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,49}-[0-9]{1,12}\Z")
MAX_ITEMS = 500  # changelog items or components in one event
NAME_LENGTH = 255


@dataclass(frozen=True)
class StatusChange:
    status: str
    from_status: str | None
    at: datetime


@dataclass
class JiraEvent:
    name: str  # webhookEvent
    key: str  # issue key
    event: str  # what a replay is recognised by
    at: datetime
    opened_at: datetime | None = None
    project_key: str | None = None
    components: list[str] | None = None  # None: not told
    priority: str | None = None  # None: not told; "" none
    resolution: tuple[datetime | None] | None = None  # None: not told; (date,) told
    status_changes: list[StatusChange] = field(default_factory=list)
    public_comment_at: datetime | None = None
    issue_fields: bool = False  # the event carries the issue's fields (an issue event)


@dataclass(frozen=True)
class Unused:
    """A well-formed event this connector has no use for (answered 200, skipped)."""

    reason: str


def _epoch_ms(value: Any, problems: Problems) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(["timestamp"], "Expected epoch milliseconds (a whole number).")
        return None
    if not EARLIEST.timestamp() * 1000 <= value < LATEST.timestamp() * 1000:
        problems.add(["timestamp"], "Must lie between 1970-01-01 and 2099-12-31 (UTC).")
        return None
    return datetime.fromtimestamp(value // 1000, UTC) + timedelta(milliseconds=value % 1000)


def _name(value: Any, path: list[str], problems: Problems) -> str | None:
    """``{"name": ...}`` -> the name (None: null or no name)."""
    if value is None:
        return None
    found = mapping(value, path, problems)
    return text(
        found.get("name"), [*path, "name"], problems, required=False, max_length=NAME_LENGTH
    )


def _components(value: Any, problems: Problems) -> list[str]:
    path = ["issue", "fields", "components"]
    if not isinstance(value, list):
        problems.add(path, "Expected a list.")
        return []
    if len(value) > MAX_ITEMS:
        problems.add(path, f"At most {MAX_ITEMS} components.")
        return []
    names = [_name(item, [*path, str(index)], problems) for index, item in enumerate(value)]
    return [name for name in names if name]


def _changelog(raw: Mapping, at: datetime, event: JiraEvent, problems: Problems) -> None:
    items = raw.get("items")
    if items is None:
        return
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        problems.add(["changelog", "items"], f"Expected a list of at most {MAX_ITEMS} items.")
        return
    for index, item in enumerate(items):
        path = ["changelog", "items", str(index)]
        entry = mapping(item, path, problems)
        name = text(entry.get("fieldId"), [*path, "fieldId"], problems, required=False)
        name = name or text(entry.get("field"), [*path, "field"], problems, required=False)
        if name is None:
            continue
        if name.casefold() == "status":
            to = text(
                entry.get("toString"),
                [*path, "toString"],
                problems,
                required=False,
                max_length=NAME_LENGTH,
            )
            before = text(
                entry.get("fromString"),
                [*path, "fromString"],
                problems,
                required=False,
                max_length=NAME_LENGTH,
            )
            if to:
                event.status_changes.append(StatusChange(to, before, at))
        elif name.casefold() == "resolution" and event.resolution is None:
            resolved = entry.get("to") is not None or entry.get("toString") is not None
            event.resolution = (at if resolved else None,)


def _comment(raw: Mapping, problems: Problems) -> tuple[str | None, datetime | None, bool]:
    """(id, created, counts as a response) of a comment object."""
    path = ["comment"]
    comment_id = text(raw.get("id"), [*path, "id"], problems, max_length=64, number_ok=True)
    created = instant(raw.get("created"), [*path, "created"], problems)
    public = raw.get("jsdPublic", True)
    if not isinstance(public, bool):
        problems.add([*path, "jsdPublic"], "Expected true or false.")
    author = raw.get("author")
    by_customer = isinstance(author, Mapping) and author.get("accountType") == "customer"
    return comment_id, created, public is True and not by_customer


def event_parse(payload: Any) -> JiraEvent | Unused:
    """What one webhook body tells; PayloadError (field messages) if malformed."""
    problems = Problems()
    if not isinstance(payload, Mapping):
        problems.add(["non_field_errors"], "Expected a JSON object (a Jira webhook body).")
        problems.raise_if_any()
    name = text(payload.get("webhookEvent"), ["webhookEvent"], problems, max_length=100)
    problems.raise_if_any()
    assert name is not None
    if name not in EVENTS:
        return Unused(f"event {name!r} is not used")
    issue = mapping(payload.get("issue"), ["issue"], problems)
    key = text(issue.get("key"), ["issue", "key"], problems, max_length=64)
    if key is not None and not ISSUE_KEY.match(key):
        problems.add(["issue", "key"], "Expected an issue key such as OPS-42.")
    fields = mapping(issue.get("fields"), ["issue", "fields"], problems)
    at = _epoch_ms(payload.get("timestamp"), problems)
    updated = instant(
        fields.get("updated"), ["issue", "fields", "updated"], problems, required=False
    )
    raw_comment = payload.get("comment")
    comment = mapping(raw_comment, ["comment"], problems, required=name == "comment_created")
    comment_id, comment_at, responds = (
        _comment(comment, problems) if isinstance(raw_comment, Mapping) else (None, None, False)
    )
    at = at or updated or comment_at
    if at is None and "timestamp" not in problems.tree:
        problems.add(["timestamp"], "This field is required (or issue.fields.updated).")
    problems.raise_if_any()
    assert key is not None and at is not None

    changelog = mapping(payload.get("changelog"), ["changelog"], problems, required=False)
    changelog_id = text(
        changelog.get("id"),
        ["changelog", "id"],
        problems,
        required=False,
        max_length=64,
        number_ok=True,
    )
    if changelog_id:
        event_key = f"changelog:{changelog_id}"
    elif comment_id:
        event_key = f"comment:{comment_id}"
    else:
        event_key = f"{name}:{int(at.timestamp() * 1000)}"
    event = JiraEvent(name=name, key=key.upper(), event=event_key, at=at)
    if responds:
        event.public_comment_at = comment_at
    if name in ISSUE_EVENTS:
        event.issue_fields = True
        _issue_fields(name, fields, event, problems)
        _changelog(changelog, at, event, problems)
        if name == "jira:issue_created" and not event.status_changes:
            status = _name(fields.get("status"), ["issue", "fields", "status"], problems)
            if status:
                event.status_changes.append(StatusChange(status, None, event.opened_at or at))
    problems.raise_if_any()
    return event


def _issue_fields(name: str, fields: Mapping, event: JiraEvent, problems: Problems) -> None:
    path = ["issue", "fields"]
    event.opened_at = instant(
        fields.get("created"), [*path, "created"], problems, required=name == "jira:issue_created"
    )
    project = mapping(fields.get("project"), [*path, "project"], problems, required=False)
    event.project_key = text(
        project.get("key"), [*path, "project", "key"], problems, required=False, max_length=64
    )
    if "components" in fields:
        event.components = _components(fields["components"], problems)
    if "priority" in fields:
        event.priority = _name(fields["priority"], [*path, "priority"], problems) or ""
    if "resolutiondate" in fields:
        event.resolution = (
            instant(fields["resolutiondate"], [*path, "resolutiondate"], problems, required=False),
        )


# --- the issue's facts and what they mean -------------------------------------------


def _history_order(entry: dict[str, Any]) -> tuple[bool, datetime, str]:
    """The creation's status (no "from") first, whatever the clocks say; then by time."""
    return (entry.get("from") is not None, datetime.fromisoformat(entry["at"]), entry["event"])


def issue_apply(issue: JiraIssue, event: JiraEvent) -> bool:
    """Add ``event``'s facts to ``issue`` (not saved); False when it was seen before."""
    seen = event.event in issue.events
    if not seen:
        issue.events = [*issue.events, event.event]
    if event.status_changes or event.issue_fields:
        kept = [entry for entry in issue.status_history if entry["event"] != event.event]
        added = [
            {"status": c.status, "from": c.from_status, "at": iso(c.at), "event": event.event}
            for c in event.status_changes
        ]
        issue.status_history = sorted(kept + added, key=_history_order)
    if event.public_comment_at is not None and (
        issue.public_comment_at is None or event.public_comment_at < issue.public_comment_at
    ):
        issue.public_comment_at = event.public_comment_at
    if event.resolution is not None and (
        issue.resolution_seen_at is None or event.at >= issue.resolution_seen_at
    ):
        issue.resolution_seen_at = event.at
        issue.resolution_date = event.resolution[0]
    if event.issue_fields and (issue.snapshot_at is None or event.at >= issue.snapshot_at):
        issue.snapshot_at = event.at
        if event.opened_at is not None:
            issue.opened_at = event.opened_at
        if event.project_key is not None:
            issue.project_key = event.project_key
        if event.components is not None:
            issue.components = event.components
        if event.priority is not None:
            issue.jira_priority = event.priority
    elif event.issue_fields and issue.opened_at is None and event.opened_at is not None:
        issue.opened_at = event.opened_at
    return not seen


def _not_before(moment: datetime | None, opened: datetime | None) -> datetime | None:
    if moment is None or opened is None:
        return moment
    return max(moment, opened)


def issue_derive(issue: JiraIssue, connector: Connector) -> None:
    """Set first_response_at, resolved_at and pauses of ``issue`` from its facts."""
    waiting = connector.waiting_status_names
    opened = issue.opened_at
    history = [
        (datetime.fromisoformat(entry["at"]), entry["status"], entry.get("from"))
        for entry in issue.status_history
    ]
    initial = {connector.initial_status.strip().casefold()} | {
        status.strip().casefold() for _, status, before in history if before is None
    }
    left_initial = next(
        (
            at
            for at, status, before in history
            if before is not None
            and before.strip().casefold() in initial
            and status.strip().casefold() not in initial
        ),
        None,
    )
    candidates = [moment for moment in (left_initial, issue.public_comment_at) if moment]
    issue.first_response_at = _not_before(min(candidates) if candidates else None, opened)
    issue.resolved_at = _not_before(issue.resolution_date, opened)
    pauses: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = None
    for at, status, _before in history:
        if status.strip().casefold() in waiting:
            start = start or at
        elif start is not None:
            pauses.append((start, at))
            start = None
    if start is not None:
        pauses.append((start, None))
    issue.pauses = [
        {"start": iso(begin), "end": iso(end)}
        for begin, end in ((_not_before(s, opened), e) for s, e in pauses)
        if begin is not None and (end is None or end > begin)
    ]


def issue_service(issue: JiraIssue, services: Mapping[str, int]) -> int | None:
    """The first component with a mapping, else the project key's mapping."""
    for name in issue.components:
        if name in services:
            return services[name]
    return services.get(issue.project_key) if issue.project_key else None


def ticket_item(issue: JiraIssue, connector: Connector, services: Mapping[str, int]) -> dict | str:
    """The ticket (an ingestion item in the docs/DESIGN.md §6 shape), or why there is none."""
    if issue.opened_at is None:
        return "its creation time is not known yet (no issue event received)"
    service = issue_service(issue, services)
    if service is None:
        components = ", ".join(repr(name) for name in issue.components) or "none"
        return (
            f"no service mapped to its components ({components[:200]}) or project "
            f"{issue.project_key!r}"
        )
    return {
        "external_id": issue.external_id,
        "service": service,
        "priority": connector.priorities.get(issue.jira_priority.casefold(), ""),
        "opened_at": iso(issue.opened_at),
        "first_response_at": iso(issue.first_response_at),
        "resolved_at": iso(issue.resolved_at),
        "pauses": [
            {**pause, "reason": PauseReason.WAITING_CUSTOMER.value} for pause in issue.pauses
        ],
    }

"""Writes of the connectors: receive an Alertmanager or Jira webhook, save and rotate connectors.

Both receivers are atomic (a refused payload writes nothing) and write through
``apps.measurements.ingestion``, which owns the measurement rules; the mapping
rules are in ``apps.integrations.alertmanager`` and ``apps.integrations.jira``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from apps.core.access import ActingUser, User, is_provider_staff
from apps.core.history import save_as
from apps.core.services import instance_save
from apps.integrations.alertmanager import Alert, Rules, alerts_parse, outage_item
from apps.integrations.jira import Unused, event_parse, issue_apply, issue_derive, ticket_item
from apps.integrations.models import Connector, ConnectorKind, JiraIssue, new_secret
from apps.integrations.payloads import PayloadError
from apps.integrations.selectors import customer_ids_by_name, mapping_table
from apps.measurements.ingestion import outage_ingest, ticket_ingest
from apps.measurements.models import Outage
from apps.measurements.parsing import IngestionError


@dataclass(frozen=True)
class Received:
    """What a webhook did: measurements created and updated, and what was skipped and why."""

    created: int
    updated: int
    skipped: list[dict[str, str]] = field(default_factory=list)
    ticket: int | None = None  # Jira: the issue's ticket, once there is one


def _require(connector: Connector, kind: str, acting_user: ActingUser) -> None:
    if not is_provider_staff(acting_user):
        raise PermissionDenied("Only provider staff may send measurements.")
    if connector.kind != kind or not connector.active:
        raise PermissionDenied(f"Connector {connector.pk} is not an active {kind} connector.")


def _latest(alerts: list[tuple[Alert, dict[str, Any]]]) -> list[tuple[Alert, dict[str, Any]]]:
    """One item per external_id: a resolved one over a firing one, else the last."""
    chosen: dict[str, tuple[Alert, dict[str, Any]]] = {}
    for alert, item in alerts:
        previous = chosen.get(item["external_id"])
        if previous is None or item["end"] is not None or previous[1]["end"] is None:
            chosen[item["external_id"]] = (alert, item)
    return list(chosen.values())


@transaction.atomic
def alertmanager_receive(*, connector: Connector, payload: Any, acting_user: User) -> Received:
    """Upsert an outage per alert of a version-4 payload (rules: ``integrations.alertmanager``).

    Alerts the mappings do not cover are skipped and reported; a malformed payload
    raises PayloadError and writes nothing.
    """
    _require(connector, ConnectorKind.ALERTMANAGER, acting_user)
    alerts = alerts_parse(payload)
    # One delivery of this connector at a time: Alertmanager peers in a cluster may both
    # send a group, and "keep the stored end" below must not race a resolved notification.
    Connector.objects.select_for_update().filter(pk=connector.pk).exists()
    customer_names = [a.labels.get(connector.customer_label, "") for a in alerts]
    rules = Rules(
        service_label=connector.service_label,
        maintenance_label=connector.maintenance_label,
        cause_label=connector.cause_label,
        customer_label=connector.customer_label,
        severity_label=connector.severity_label,
        outage_severities=connector.outage_severity_names,
        services=mapping_table(connector),
        customers=customer_ids_by_name(customer_names) if connector.customer_label else {},
    )
    taken: list[tuple[Alert, dict[str, Any]]] = []
    skipped: list[dict[str, str]] = []
    for alert in alerts:
        item = outage_item(alert, rules)
        if isinstance(item, str):
            skipped.append({"fingerprint": alert.fingerprint, "reason": item})
        else:
            taken.append((alert, item))
    taken = _latest(taken)
    if not taken:
        return Received(0, 0, skipped)
    # A firing notification retried after the resolved one must not reopen the outage.
    ended = Outage.objects.filter(
        external_id__in=[item["external_id"] for _, item in taken], end__isnull=False
    ).values_list("external_id", "end")
    stored_end = {external_id: end.isoformat() for external_id, end in ended if end is not None}
    for _, item in taken:
        if item["end"] is None and item["external_id"] in stored_end:
            item["end"] = stored_end[item["external_id"]]
    try:
        result = outage_ingest(
            items=[item for _, item in taken],
            acting_user=acting_user,
            item_names=[f"alert {alert.index}" for alert, _ in taken],
        )
    except IngestionError as exc:
        errors: dict[str, Any] = {
            "alerts": {str(taken[index][0].index): found for index, found in exc.items.items()}
        }
        if exc.general:
            errors["non_field_errors"] = exc.general
        raise PayloadError(errors) from exc
    return Received(result.created, result.updated, skipped)


def _issue_locked(connector: Connector, key: str) -> JiraIssue:
    """The issue's row, created if new, locked until the end of the transaction."""
    external_id = f"jira-{key}"
    claimed = JiraIssue.objects.filter(external_id=external_id).exclude(connector=connector)
    if claimed.exists():
        raise PayloadError({"issue": {"key": [f"{key} belongs to another Jira connector."]}})
    try:
        issue, _ = JiraIssue.objects.get_or_create(
            connector=connector, key=key, defaults={"external_id": external_id}
        )
    except IntegrityError as exc:  # another connector took the external_id meanwhile
        raise PayloadError({"issue": {"key": [f"{key} belongs to another connector."]}}) from exc
    return JiraIssue.objects.select_for_update().get(pk=issue.pk)


@transaction.atomic
def jira_receive(*, connector: Connector, payload: Any, acting_user: User) -> Received:
    """Record a Jira event and rebuild its issue's ticket (rules: ``apps.integrations.jira``).

    Unused events and issues without a service mapping are skipped (the issue's
    facts are still kept); a malformed payload raises PayloadError and writes nothing.
    """
    _require(connector, ConnectorKind.JIRA, acting_user)
    event = event_parse(payload)
    if isinstance(event, Unused):
        return Received(0, 0, [{"key": "", "reason": event.reason}])
    issue = _issue_locked(connector, event.key)
    issue_apply(issue, event)
    issue_derive(issue, connector)
    item = ticket_item(issue, connector, mapping_table(connector))
    if isinstance(item, str):
        issue.save()
        return Received(0, 0, [{"key": issue.key, "reason": item}], issue.ticket_id)
    try:
        result = ticket_ingest(items=[item], acting_user=acting_user, item_names=[issue.key])
    except IngestionError as exc:
        errors: dict[str, Any] = {"ticket": exc.items.get(0, {})}
        if exc.general:
            errors["non_field_errors"] = exc.general
        raise PayloadError(errors) from exc
    issue.ticket_id = result.ids[0]
    issue.save()
    return Received(result.created, result.updated, [], issue.ticket_id)


def connector_save(*, connector: Connector, acting_user: ActingUser) -> Connector:
    """Validate and save a connector (its ``clean`` checks the priority map and run-as user)."""
    return instance_save(instance=connector, acting_user=acting_user)


def connector_rotate_secret(*, connector: Connector, acting_user: ActingUser) -> Connector:
    """A new secret: the old Jira webhook URL stops working at once."""
    connector.secret = new_secret()
    return save_as(connector, acting_user, update_fields=["secret"])

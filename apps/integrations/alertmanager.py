"""Prometheus Alertmanager webhooks (payload version 4) -> outages.

The payload (docs: prometheus.io/docs/alerting/latest/configuration/#webhook_config;
samples in tests/fixtures/alertmanager/) is ``{"version": "4", "status", "alerts":
[{"status", "labels", "annotations", "startsAt", "endsAt", "fingerprint", …}], …}``.
Only ``alerts`` is read from the envelope; every other key is ignored.

Each alert becomes one outage (through ``apps.measurements.ingestion.outage_ingest``):

==============  =========================================================================
outage field    rule
==============  =========================================================================
external_id     ``am-<fingerprint>-<startsAt>``, startsAt normalised to UTC with
                microseconds (``am-1ea24e8411992437-2026-10-05T07:09:30.512000Z``): the same
                alert firing again later is a new outage; its firing and resolved
                notifications are the same one.
service         the value of the connector's ``service_label`` (default ``service``) looked
                up in its ServiceMappings (exact match). No label or no mapping: the alert is
                *skipped* (reported, not an error).
customer        only with a ``customer_label``: the label's value is the exact name of a
                customer or internal party (unknown name: skipped); no such label on the
                alert: no customer (a shared incident on the service).
start           ``startsAt``.
end             ``endsAt`` when the alert's status is ``resolved``; a firing alert has no
                end (Alertmanager sends Go's zero time ``0001-01-01T00:00:00Z`` for it). A
                firing notification arriving after the resolved one (a retry) keeps the
                stored end. Resolved without an end after the start: skipped.
kind            ``planned`` when the ``maintenance_label`` (default ``maintenance``) is
                ``true`` (case-insensitive), else ``unplanned``.
cause           the ``cause_label`` (default ``cause``) when it is ``provider``, ``customer``
                or ``third_party`` (case-insensitive, ``-`` or a space for ``_``); absent or
                anything else: ``provider`` (the outage counts against the provider unless
                the alert says otherwise).
severity        with ``outage_severities`` set (e.g. ``critical, page``), only alerts whose
                ``severity_label`` (default ``severity``) is one of them are outages; the
                others (a ``warning`` is a degradation, not downtime) are skipped and
                listed. Empty: every alert is an outage. The severity is also written
                into the description.
description     ``<alertname> [<severity>]: <summary or description annotation>``.
==============  =========================================================================

Malformed payloads (no ``alerts`` list, more than ``MAX_ALERTS``, an alert without
a fingerprint, a bad timestamp or status, labels that are not text) are refused
whole: 400 with messages by alert index, nothing written. Alertmanager never
sends those; a proxy or a hand-made request might.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apps.integrations.payloads import REQUIRED, Problems, instant, mapping, text
from apps.measurements.models import OutageCause, OutageKind

MAX_ALERTS = 1000
MAX_DESCRIPTION = 1000
FINGERPRINT = re.compile(r"^[0-9a-fA-F]{1,32}\Z")
GO_ZERO_TIME = "0001-01-01T00:00:00"  # endsAt of a firing alert (with any offset suffix)
STATUSES = ("firing", "resolved")


@dataclass(frozen=True)
class Alert:
    index: int  # position in the payload's alerts
    fingerprint: str
    status: str  # firing | resolved
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None  # None for Go's zero time

    @property
    def external_id(self) -> str:
        return f"am-{self.fingerprint}-{self.starts_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"


def _string_map(value: Any, path: list[str], problems: Problems, *, required: bool) -> dict:
    raw = mapping(value, path, problems, required=required)
    result: dict[str, str] = {}
    for name, item in raw.items():
        if not isinstance(item, str):
            problems.add([*path, str(name)], "Expected text.")
        else:
            result[str(name)] = item
    return result


def _alert(index: int, raw: Any, problems: Problems) -> Alert | None:
    """One alert, or None with its problems (paths start at ``alerts.<index>``)."""
    path = ["alerts", str(index)]
    if not isinstance(raw, Mapping):
        problems.add(path, "Expected an object.")
        return None
    fingerprint = text(raw.get("fingerprint"), [*path, "fingerprint"], problems, max_length=32)
    if fingerprint is not None and not FINGERPRINT.match(fingerprint):
        problems.add([*path, "fingerprint"], "Expected up to 32 hexadecimal digits.")
    status = text(raw.get("status"), [*path, "status"], problems, max_length=16)
    if status is not None and status not in STATUSES:
        problems.add([*path, "status"], f"Expected one of: {', '.join(STATUSES)}.")
    labels = _string_map(raw.get("labels"), [*path, "labels"], problems, required=True)
    annotations = _string_map(
        raw.get("annotations"), [*path, "annotations"], problems, required=False
    )
    starts_at = instant(raw.get("startsAt"), [*path, "startsAt"], problems)
    ends_raw = raw.get("endsAt")
    zero = isinstance(ends_raw, str) and ends_raw.strip().startswith(GO_ZERO_TIME)
    ends_at = None if zero else instant(ends_raw, [*path, "endsAt"], problems, required=False)
    if problems or fingerprint is None or status is None or starts_at is None:
        return None
    return Alert(index, fingerprint.lower(), status, labels, annotations, starts_at, ends_at)


def alerts_parse(payload: Any) -> list[Alert]:
    """The alerts of a version-4 payload; PayloadError (by alert index) if malformed."""
    problems = Problems()
    if not isinstance(payload, Mapping):
        problems.add(["non_field_errors"], "Expected a JSON object (an Alertmanager payload).")
        problems.raise_if_any()
    version = payload.get("version")
    if version is not None and str(version) != "4":
        problems.add(["version"], 'Only version "4" payloads are understood.')
    raw_alerts = payload.get("alerts")
    if not isinstance(raw_alerts, list):
        problems.add(["alerts"], REQUIRED if raw_alerts is None else "Expected a list.")
        problems.raise_if_any()
    assert isinstance(raw_alerts, list)
    if len(raw_alerts) > MAX_ALERTS:
        problems.add(
            ["alerts"],
            f"At most {MAX_ALERTS} alerts per request; set max_alerts in the webhook_config.",
        )
        problems.raise_if_any()
    alerts: list[Alert] = []
    for index, raw in enumerate(raw_alerts):
        found = Problems()
        alert = _alert(index, raw, found)
        problems.extend(found)
        if alert is not None:
            alerts.append(alert)
    problems.raise_if_any()
    return alerts


@dataclass(frozen=True)
class Rules:
    """A connector's Alertmanager settings, with its mappings loaded."""

    service_label: str
    maintenance_label: str
    cause_label: str
    customer_label: str
    severity_label: str
    outage_severities: frozenset[str]  # case-folded; empty: every alert
    services: dict[str, int]  # label value -> service id
    customers: dict[str, int]  # party name -> id (customers and internal departments)


def _cause(labels: Mapping[str, str], rules: Rules) -> str:
    if not rules.cause_label:
        return OutageCause.PROVIDER.value
    value = labels.get(rules.cause_label, "").strip().lower().replace("-", "_").replace(" ", "_")
    return value if value in OutageCause.values else OutageCause.PROVIDER.value


def _description(alert: Alert, rules: Rules) -> str:
    name = alert.labels.get("alertname", "alert")
    severity = alert.labels.get(rules.severity_label)
    summary = alert.annotations.get("summary") or alert.annotations.get("description") or ""
    head = f"{name} [{severity}]" if severity else name
    return (f"{head}: {summary}" if summary else head)[:MAX_DESCRIPTION]


def outage_item(alert: Alert, rules: Rules) -> dict[str, Any] | str:
    """The outage (an ingestion item in the docs/DESIGN.md §6 shape), or why it is skipped."""
    if rules.outage_severities:
        severity = alert.labels.get(rules.severity_label)
        if severity is None or severity.strip().casefold() not in rules.outage_severities:
            said = f"{rules.severity_label}={severity[:100]!r}" if severity else "no severity"
            wanted = ", ".join(sorted(rules.outage_severities))
            return f"{said} is not an outage severity ({wanted})"
    value = alert.labels.get(rules.service_label)
    if value is None:
        return f"no label {rules.service_label!r}"
    service = rules.services.get(value)
    if service is None:
        return f"no service mapped to {rules.service_label}={value[:200]!r}"
    customer = None
    if rules.customer_label and alert.labels.get(rules.customer_label):
        name = alert.labels[rules.customer_label]
        customer = rules.customers.get(name)
        if customer is None:
            return f"no customer party named {name[:200]!r} ({rules.customer_label} label)"
    end = alert.ends_at if alert.status == "resolved" else None
    if alert.status == "resolved" and (end is None or end <= alert.starts_at):
        return "resolved, but endsAt is not after startsAt"
    maintenance = alert.labels.get(rules.maintenance_label, "").strip().lower() == "true"
    return {
        "external_id": alert.external_id,
        "service": service,
        "customer": customer,
        "start": alert.starts_at.isoformat(),
        "end": None if end is None else end.isoformat(),
        "kind": OutageKind.PLANNED.value if maintenance else OutageKind.UNPLANNED.value,
        "cause": _cause(alert.labels, rules),
        "description": _description(alert, rules),
    }

"""The demo's connectors: an Alertmanager and a Jira Service Management site, with mappings.

Idempotent: a connector that exists (by name) is left as it is. The endpoints and
how to point the tools at them are in README.md ("Connectors").
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model

from apps.agreements.models import Service
from apps.integrations.models import Connector, ConnectorKind, ServiceMapping
from apps.integrations.services import connector_save

ALERTMANAGER = "Prometheus Alertmanager"
JIRA = "Jira Service Management"
# connector name -> (kind, {mapped value: service name})
CONNECTORS: dict[str, tuple[str, dict[str, str]]] = {
    ALERTMANAGER: (
        ConnectorKind.ALERTMANAGER,
        {"web-hosting": "Web Hosting", "k8s": "Managed Kubernetes"},
    ),
    # A component mapping wins over the project's: OPS issues are service desk tickets,
    # unless filed under the "Web Hosting" component.
    JIRA: (ConnectorKind.JIRA, {"OPS": "Service Desk", "Web Hosting": "Web Hosting"}),
}


def seed(*, tenant: Any, password: str, today: date | None = None) -> None:
    """The connectors (``password`` and ``today`` unused: the seeders' signature)."""
    users = get_user_model().objects
    admin, manager = users.get(username="admin"), users.get(username="manager")
    for name, (kind, mappings) in CONNECTORS.items():
        if Connector.objects.filter(name=name).exists():
            continue
        connector = connector_save(
            connector=Connector(
                kind=kind,
                name=name,
                run_as=manager if kind == ConnectorKind.JIRA else None,
                # Warnings are degradations, not downtime: only critical alerts are outages.
                outage_severities="critical" if kind == ConnectorKind.ALERTMANAGER else "",
            ),
            acting_user=admin,
        )
        for value, service in mappings.items():
            ServiceMapping.objects.create(
                connector=connector, value=value, service=Service.objects.get(name=service)
            )

"""Reads of connectors: which connector a request is for, and a connector's mappings."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from apps.integrations.models import Connector
from apps.parties.models import Party, PartyKind


class NoConnector(Exception):
    """No (single) active connector answers the request; the message says why."""


def connector_for_kind(*, kind: str, pk: int | None = None) -> Connector:
    """The active connector of ``kind`` with id ``pk``, or the only one when ``pk`` is None."""
    active = Connector.objects.filter(kind=kind, active=True).order_by("pk")
    if pk is not None:
        found = active.filter(pk=pk).first()
        if found is None:
            raise NoConnector(f"No active {kind} connector with id {pk}.")
        return found
    candidates = list(active[:2])
    if not candidates:
        raise NoConnector(f"No active {kind} connector is configured (admin → Connectors).")
    if len(candidates) > 1:
        raise NoConnector(f"Several active {kind} connectors: name one with ?connector=<id>.")
    return candidates[0]


def connector_by_secret(*, pk: int, secret: str) -> Connector | None:
    """The active Jira connector ``pk`` if ``secret`` is its secret (compared in constant time)."""
    connector = (
        Connector.objects.filter(pk=pk, kind="jira", active=True).select_related("run_as").first()
    )
    expected = connector.secret if connector is not None else "-" * 43
    matches = hmac.compare_digest(expected.encode(), secret.encode())
    return connector if connector is not None and matches else None


def mapping_table(connector: Connector) -> dict[str, int]:
    """Mapped value -> service id."""
    return dict(connector.mappings.values_list("value", "service_id"))


def customer_ids_by_name(names: Iterable[str]) -> dict[str, int]:
    """Customer and internal parties by exact name."""
    return dict(
        Party.objects.filter(
            name__in=set(names), kind__in=[PartyKind.CUSTOMER, PartyKind.INTERNAL]
        ).values_list("name", "pk")
    )

"""Payload builders of the measurements tests (the API client is tests.conftest.manager_api)."""

from __future__ import annotations

from typing import Any


def ticket(external_id: str, service: int | None, **fields: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "service": service,
        "priority": "P2",
        "opened_at": "2026-10-01T09:00:00+02:00",
        "first_response_at": "2026-10-01T09:30:00+02:00",
        "resolved_at": "2026-10-01T15:00:00+02:00",
        "closed_at": "2026-10-02T09:00:00+02:00",
        "contacts": 1,
        "pauses": [
            {
                "start": "2026-10-01T10:00:00+02:00",
                "end": "2026-10-01T11:00:00+02:00",
                "reason": "waiting_customer",
            }
        ],
        **fields,
    }


def outage(external_id: str, service: int, **fields: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "service": service,
        "start": "2026-10-03T01:00:00Z",
        "end": "2026-10-03T01:45:00Z",
        "kind": "unplanned",
        "cause": "provider",
        **fields,
    }


def sample(external_id: str, service: int, **fields: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "service": service,
        "metric": "latency_ms",
        "at": "2026-10-03T12:00:00+00:00",
        "value": 182.5,
        **fields,
    }

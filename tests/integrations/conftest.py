"""Connectors of tenant A, the vendor payloads under tests/fixtures/, and helpers to post them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.agreements.models import Service
from apps.integrations.models import Connector, ConnectorKind, ServiceMapping
from tests.conftest import TENANT_A, World
from tests.factories import ServiceFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
JIRA_DAY = [  # the fixture issue's day, in time order
    "issue_created",
    "issue_updated_in_progress",
    "comment_created",
    "issue_updated_waiting",
    "issue_updated_back",
    "issue_updated_resolved",
]
AM_URL = "/api/v1/integrations/alertmanager/"
JIRA_URL = "/api/v1/integrations/jira/"


@cache
def _raw(vendor: str, name: str) -> str:
    return (FIXTURES / vendor / f"{name}.json").read_text()


def payload(vendor: str, name: str) -> dict[str, Any]:
    """A fresh copy of a vendor payload from tests/fixtures/<vendor>/<name>.json."""
    return copy.deepcopy(json.loads(_raw(vendor, name)))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class Connectors:
    world: World
    alertmanager: Connector
    jira: Connector
    hosting: Service  # "web-hosting" label, "Web Hosting" component (the world's service)
    desk: Service  # project OPS


@pytest.fixture
def connectors(world_a) -> Connectors:
    with schema_context(TENANT_A.schema):
        desk = ServiceFactory(name="Desk alpha")
        am = Connector.objects.create(kind=ConnectorKind.ALERTMANAGER, name="AM")
        jira = Connector.objects.create(
            kind=ConnectorKind.JIRA, name="Jira", run_as=world_a.manager
        )
        ServiceMapping.objects.create(connector=am, value="web-hosting", service=world_a.service)
        ServiceMapping.objects.create(connector=jira, value="Web Hosting", service=world_a.service)
        ServiceMapping.objects.create(connector=jira, value="OPS", service=desk)
        return Connectors(world_a, am, jira, world_a.service, desk)


def post(client, url: str, body: Any):
    return client.post(url, json.dumps(body), content_type="application/json")

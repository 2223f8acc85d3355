"""POST /api/v1/integrations/alertmanager/ with Alertmanager's own payloads -> outages."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.integrations.alertmanager import MAX_ALERTS
from apps.integrations.models import Connector, ConnectorKind, ServiceMapping
from apps.measurements.models import Outage
from apps.parties.models import PartyKind
from tests.conftest import TENANT_A
from tests.factories import PartyFactory
from tests.integrations.conftest import AM_URL, at, payload, post

FIRST = "am-1ea24e8411992437-2026-10-05T07:09:30.512000Z"
SECOND = "am-50029db7bbfa0387-2026-10-05T07:10:00.512000Z"


def _outages() -> dict[str, Outage]:
    with schema_context(TENANT_A.schema):
        return {o.external_id: o for o in Outage.objects.all()}


def test_firing_then_resolved_gives_one_outage_per_alert_with_start_and_end(
    connectors, manager_api
):
    firing = post(manager_api, AM_URL, payload("alertmanager", "firing"))
    assert firing.status_code == 200, firing.content
    assert firing.json() == {"created": 2, "updated": 0, "skipped": []}
    opened = _outages()
    assert set(opened) == {FIRST, SECOND}
    assert opened[FIRST].start == at("2026-10-05T07:09:30.512Z")
    assert opened[FIRST].end is None  # Go's zero time means "no end"

    resolved = post(manager_api, AM_URL, payload("alertmanager", "resolved"))
    assert resolved.status_code == 200, resolved.content
    assert resolved.json() == {"created": 0, "updated": 2, "skipped": []}
    closed = _outages()
    assert set(closed) == {FIRST, SECOND}
    first, second = closed[FIRST], closed[SECOND]
    assert (first.start, first.end) == (
        at("2026-10-05T07:09:30.512Z"),
        at("2026-10-05T07:41:15.512Z"),
    )
    assert second.end == at("2026-10-05T07:43:45.512Z")
    assert first.service_id == connectors.hosting.pk and first.customer_id is None
    assert (first.kind, first.cause) == ("unplanned", "provider")
    assert first.description == (
        "WebsiteDown [critical]: Website https://www.customer-a.example/ is unreachable"
    )
    # The outage reads back through the ordinary API.
    listed = manager_api.get("/api/v1/outages/", {"service": connectors.hosting.pk})
    assert {o["external_id"] for o in listed.json()["results"]} == {FIRST, SECOND}


def test_maintenance_label_makes_the_outage_planned(connectors, manager_api):
    response = post(manager_api, AM_URL, payload("alertmanager", "maintenance"))
    assert response.json() == {"created": 1, "updated": 0, "skipped": []}
    (outage,) = _outages().values()
    assert outage.kind == "planned"
    assert outage.external_id == "am-7192d46c61ad483e-2026-10-07T20:02:10.204000Z"


def test_a_replay_updates_the_same_rows(connectors, manager_api):
    for name in ("firing", "resolved"):
        body = payload("alertmanager", name)
        post(manager_api, AM_URL, body)
        again = post(manager_api, AM_URL, body)
        assert again.json() == {"created": 0, "updated": 2, "skipped": []}
    assert len(_outages()) == 2


def test_a_firing_notification_retried_after_the_resolved_one_keeps_the_end(
    connectors, manager_api
):
    post(manager_api, AM_URL, payload("alertmanager", "resolved"))
    late = post(manager_api, AM_URL, payload("alertmanager", "firing"))
    assert late.json()["updated"] == 2
    assert _outages()[FIRST].end == at("2026-10-05T07:41:15.512Z")


def test_the_same_start_written_differently_is_the_same_outage(connectors, manager_api):
    body = payload("alertmanager", "firing")
    post(manager_api, AM_URL, body)
    body["alerts"][0]["startsAt"] = "2026-10-05T09:09:30.512000000+02:00"
    assert post(manager_api, AM_URL, body).json()["created"] == 0
    assert len(_outages()) == 2


def test_an_alert_refiring_later_is_a_new_outage(connectors, manager_api):
    post(manager_api, AM_URL, payload("alertmanager", "resolved"))
    again = payload("alertmanager", "firing")
    again["alerts"] = again["alerts"][:1]
    again["alerts"][0]["startsAt"] = "2026-10-05T09:00:00Z"
    assert post(manager_api, AM_URL, again).json()["created"] == 1
    assert len(_outages()) == 3


def test_unmapped_or_missing_service_labels_are_skipped_and_the_rest_is_taken(
    connectors, manager_api
):
    body = payload("alertmanager", "firing")
    body["alerts"][0]["labels"]["service"] = "mainframe"
    del body["alerts"][1]["labels"]["service"]
    maintenance = payload("alertmanager", "maintenance")["alerts"][0]
    body["alerts"].append(maintenance)
    response = post(manager_api, AM_URL, body)
    assert response.status_code == 200
    assert response.json() == {
        "created": 1,
        "updated": 0,
        "skipped": [
            {
                "fingerprint": "1ea24e8411992437",
                "reason": "no service mapped to service='mainframe'",
            },
            {"fingerprint": "50029db7bbfa0387", "reason": "no label 'service'"},
        ],
    }
    assert set(_outages()) == {"am-7192d46c61ad483e-2026-10-07T20:02:10.204000Z"}


def test_a_resolved_alert_without_a_sane_end_is_skipped(connectors, manager_api):
    body = payload("alertmanager", "resolved")
    body["alerts"][0]["endsAt"] = "0001-01-01T00:00:00Z"
    body["alerts"][1]["endsAt"] = body["alerts"][1]["startsAt"]
    response = post(manager_api, AM_URL, body).json()
    assert response["created"] == 0
    assert [s["reason"] for s in response["skipped"]] == [
        "resolved, but endsAt is not after startsAt"
    ] * 2


def test_cause_and_customer_labels(connectors, manager_api):
    with schema_context(TENANT_A.schema):
        globex = PartyFactory(name="Globex", kind=PartyKind.CUSTOMER)
        PartyFactory(name="Northwind", kind=PartyKind.PROVIDER)
        Connector.objects.filter(pk=connectors.alertmanager.pk).update(customer_label="customer")
    body = payload("alertmanager", "resolved")
    first, second = body["alerts"]
    first["labels"] |= {"customer": "Globex", "cause": "Third-Party"}
    second["labels"] |= {"customer": "Northwind", "cause": "weather"}
    response = post(manager_api, AM_URL, body).json()
    assert response["skipped"] == [
        {
            "fingerprint": "50029db7bbfa0387",
            "reason": "no customer party named 'Northwind' (customer label)",
        }
    ]
    outage = _outages()[FIRST]
    assert (outage.customer_id, outage.cause) == (globex.pk, "third_party")

    del second["labels"]["customer"]  # no customer label: a shared outage, cause unknown
    post(manager_api, AM_URL, body)
    shared = _outages()[SECOND]
    assert (shared.customer_id, shared.cause) == (None, "provider")


def test_connector_choice(connectors, manager_api):
    with schema_context(TENANT_A.schema):
        other = Connector.objects.create(kind=ConnectorKind.ALERTMANAGER, name="AM 2")
        ServiceMapping.objects.create(connector=other, value="web-hosting", service=connectors.desk)
    ambiguous = post(manager_api, AM_URL, payload("alertmanager", "firing"))
    assert ambiguous.status_code == 400
    assert "?connector=" in ambiguous.json()["connector"][0]
    chosen = post(manager_api, f"{AM_URL}?connector={other.pk}", payload("alertmanager", "firing"))
    assert chosen.json()["created"] == 2
    assert {o.service_id for o in _outages().values()} == {connectors.desk.pk}
    for bad in ("abc", "²", "999999"):
        response = post(manager_api, f"{AM_URL}?connector={bad}", payload("alertmanager", "firing"))
        assert response.status_code == 400 and "connector" in response.json()
    with schema_context(TENANT_A.schema):
        Connector.objects.update(active=False)
    none = post(manager_api, AM_URL, payload("alertmanager", "firing"))
    assert none.status_code == 400 and "No active" in none.json()["connector"][0]


def _alert(**changes):
    alert = payload("alertmanager", "firing")["alerts"][0]
    alert.update(changes)
    return alert


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ([], ["non_field_errors"]),
        ("alerts", ["non_field_errors"]),
        ({"version": "4"}, ["alerts"]),
        ({"alerts": {"0": {}}}, ["alerts"]),
        ({"version": "3", "alerts": []}, ["version"]),
        ({"alerts": [None]}, ["alerts", "0"]),
        ({"alerts": [_alert(fingerprint=None)]}, ["alerts", "0", "fingerprint"]),
        ({"alerts": [_alert(fingerprint="zz")]}, ["alerts", "0", "fingerprint"]),
        ({"alerts": [_alert(fingerprint="a" * 100_000)]}, ["alerts", "0", "fingerprint"]),
        ({"alerts": [_alert(fingerprint=["1"])]}, ["alerts", "0", "fingerprint"]),
        ({"alerts": [_alert(status="pending")]}, ["alerts", "0", "status"]),
        ({"alerts": [_alert(status=True)]}, ["alerts", "0", "status"]),
        ({"alerts": [_alert(labels=None)]}, ["alerts", "0", "labels"]),
        ({"alerts": [_alert(labels=["service"])]}, ["alerts", "0", "labels"]),
        ({"alerts": [_alert(labels={"service": 7})]}, ["alerts", "0", "labels", "service"]),
        ({"alerts": [_alert(annotations="x")]}, ["alerts", "0", "annotations"]),
        ({"alerts": [_alert(startsAt=None)]}, ["alerts", "0", "startsAt"]),
        ({"alerts": [_alert(startsAt="yesterday")]}, ["alerts", "0", "startsAt"]),
        ({"alerts": [_alert(startsAt="2026-10-05T07:09:30")]}, ["alerts", "0", "startsAt"]),
        ({"alerts": [_alert(startsAt="0001-01-01T00:00:00Z")]}, ["alerts", "0", "startsAt"]),
        ({"alerts": [_alert(startsAt=1791184364)]}, ["alerts", "0", "startsAt"]),
        ({"alerts": [_alert(startsAt="9" * 5000)]}, ["alerts", "0", "startsAt"]),
        ({"alerts": [_alert(endsAt="2026-13-01T00:00:00Z")]}, ["alerts", "0", "endsAt"]),
    ],
)
def test_malformed_payloads_are_a_400_naming_the_field_and_write_nothing(
    connectors, manager_api, body, where
):
    if isinstance(body, dict) and isinstance(body.get("alerts"), list) and body["alerts"]:
        body["alerts"] = [*body["alerts"], payload("alertmanager", "firing")["alerts"][1]]
    response = post(manager_api, AM_URL, body)
    assert response.status_code == 400, response.content
    node = response.json()
    for part in where:
        node = node[part]
    assert node
    assert _outages() == {}


def test_at_most_so_many_alerts_per_request(connectors, manager_api):
    alert = payload("alertmanager", "firing")["alerts"][0]
    response = post(manager_api, AM_URL, {"version": "4", "alerts": [alert] * (MAX_ALERTS + 1)})
    assert response.status_code == 400
    assert "max_alerts" in response.json()["alerts"][0]


def test_a_body_that_is_not_json_is_a_400(connectors, manager_api):
    bad = manager_api.post(AM_URL, "{not json", content_type="application/json")
    assert bad.status_code == 400
    nested = "[" * 100 + "]" * 100
    assert manager_api.post(AM_URL, nested, content_type="application/json").status_code == 400
    text = manager_api.post(AM_URL, "alerts=1", content_type="text/plain")
    assert text.status_code == 415


def test_only_the_configured_severities_are_outages(connectors, manager_api):
    with schema_context(TENANT_A.schema):
        Connector.objects.filter(pk=connectors.alertmanager.pk).update(
            outage_severities="critical, Page"
        )
    body = payload("alertmanager", "firing")
    body["alerts"][1]["labels"]["severity"] = "warning"
    maintenance = payload("alertmanager", "maintenance")["alerts"][0]
    del maintenance["labels"]["severity"]
    body["alerts"].append(maintenance)
    response = post(manager_api, AM_URL, body).json()
    assert response["created"] == 1
    assert response["skipped"] == [
        {
            "fingerprint": "50029db7bbfa0387",
            "reason": "severity='warning' is not an outage severity (critical, page)",
        },
        {
            "fingerprint": "7192d46c61ad483e",
            "reason": "no severity is not an outage severity (critical, page)",
        },
    ]
    assert set(_outages()) == {FIRST}
    body["alerts"][1]["labels"]["severity"] = "PAGE"  # compared case-insensitively
    assert post(manager_api, AM_URL, body).json()["created"] == 1
    assert set(_outages()) == {FIRST, SECOND}

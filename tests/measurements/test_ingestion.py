"""POST /api/v1/tickets|outages|samples/: single and bulk upserts, and every 400 writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django_tenants.utils import schema_context

from apps.core.timestamps import NAIVE_TIMESTAMP
from apps.measurements import ingestion, parsing
from apps.measurements.models import Outage, Sample, Ticket, TicketPause
from apps.parties.models import PartyKind
from tests.conftest import TENANT_A
from tests.factories import PartyFactory
from tests.measurements.conftest import outage, sample, ticket

MODELS = {"tickets": Ticket, "outages": Outage, "samples": Sample}
_real_execute = ingestion._execute


def _count(model) -> int:
    with schema_context(TENANT_A.schema):
        return model.objects.count()


def test_single_ticket_is_created_with_its_pauses(world_a, manager_api):
    response = manager_api.post(
        "/api/v1/tickets/", ticket("INC-1", world_a.service.pk, customer=world_a.party_x.pk)
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 1 and body["updated"] == 0
    with schema_context(TENANT_A.schema):
        stored = Ticket.objects.get(pk=body["ids"][0])
        assert stored.external_id == "INC-1"
        assert stored.customer_id == world_a.party_x.pk
        assert stored.opened_at == datetime(2026, 10, 1, 7, 0, tzinfo=UTC)
        assert stored.contacts == 1 and not stored.excluded
        assert [(p.start.hour, p.end.hour, p.reason) for p in stored.pauses.all()] == [
            (8, 9, "waiting_customer")
        ]


def test_bulk_returns_ids_in_item_order(world_a, manager_api):
    items = [ticket(f"INC-{n}", world_a.service.pk) for n in (5, 3, 9, 1)]

    response = manager_api.post("/api/v1/tickets/", items)

    assert response.status_code == 201, response.content
    with schema_context(TENANT_A.schema):
        by_pk = dict(Ticket.objects.values_list("pk", "external_id"))
    assert [by_pk[pk] for pk in response.json()["ids"]] == ["INC-5", "INC-3", "INC-9", "INC-1"]


def test_repeat_updates_the_row_and_replaces_its_pauses(world_a, manager_api):
    first = manager_api.post("/api/v1/tickets/", [ticket("INC-1", world_a.service.pk)]).json()
    second_pauses = [
        {"start": "2026-10-01T12:00:00+02:00", "end": None, "reason": "waiting_third_party"},
        {"start": "2026-10-01T10:00:00+02:00", "end": "2026-10-01T10:30:00+02:00"},
    ]
    repeat = ticket(
        "INC-1", None, priority="P1", resolved_at=None, contacts=3, pauses=second_pauses
    )

    response = manager_api.post("/api/v1/tickets/", [repeat, ticket("INC-2", None)])

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["updated"]) == (1, 1)
    assert body["ids"][0] == first["ids"][0]
    with schema_context(TENANT_A.schema):
        assert Ticket.objects.filter(external_id="INC-1").count() == 1
        stored = Ticket.objects.get(external_id="INC-1")
        assert (stored.priority, stored.service_id, stored.resolved_at, stored.contacts) == (
            "P1",
            None,
            None,
            3,
        )
        pauses = list(stored.pauses.order_by("start").values_list("end", "reason"))
        assert pauses == [
            (datetime(2026, 10, 1, 8, 30, tzinfo=UTC), "waiting_customer"),
            (None, "waiting_third_party"),
        ]
        assert TicketPause.objects.filter(ticket__external_id="INC-2").count() == 1


def test_repeat_without_pauses_removes_them(world_a, manager_api):
    manager_api.post("/api/v1/tickets/", ticket("INC-1", None))
    item = ticket("INC-1", None)
    del item["pauses"]

    assert manager_api.post("/api/v1/tickets/", item).json()["updated"] == 1
    assert _count(TicketPause) == 0


def test_outage_and_sample_upserts(world_a, manager_api):
    service = world_a.service.pk
    created = manager_api.post(
        "/api/v1/outages/", [outage("OUT-1", service), outage("OUT-2", service)]
    )
    assert created.status_code == 201, created.content
    updated = manager_api.post(
        "/api/v1/outages/", outage("OUT-1", service, end=None, cause="third_party")
    )
    assert updated.json() == {"created": 0, "updated": 1, "ids": [created.json()["ids"][0]]}

    samples = manager_api.post(
        "/api/v1/samples/", [sample("S-1", service), sample("S-2", service, value="7")]
    )
    assert samples.status_code == 201, samples.content
    again = manager_api.post("/api/v1/samples/", sample("S-1", service, value=99))
    assert (again.json()["created"], again.json()["updated"]) == (0, 1)

    with schema_context(TENANT_A.schema):
        stored = Outage.objects.get(external_id="OUT-1")
        assert (stored.end, stored.cause, stored.kind) == (None, "third_party", "unplanned")
        assert sorted(Sample.objects.values_list("external_id", "value")) == [
            ("S-1", 99.0),
            ("S-2", 7.0),
        ]


def test_duplicate_external_id_in_one_request_names_both_items(world_a, manager_api):
    items = [ticket("A", None), ticket("DUP", None), ticket("B", None), ticket("DUP", None)]

    response = manager_api.post("/api/v1/tickets/", items)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"1", "3"}
    assert "item 3" in errors["1"]["external_id"][0]
    assert "item 1" in errors["3"]["external_id"][0]
    assert _count(Ticket) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-10-01T09:00:00", NAIVE_TIMESTAMP),
        ("2026-10-01", NAIVE_TIMESTAMP),
        ("2026-02-30T09:00:00+01:00", "day is out of range for month"),
        ("2026-10-01T25:00:00Z", "Not a valid ISO 8601 timestamp"),
        ("yesterday", "Not a valid ISO 8601 timestamp"),
        (1759302000, "Expected an ISO 8601 timestamp"),
        ("0001-01-01T00:00:00+01:00", "Must lie between 1970-01-01 and 2099-12-31"),
        ("9999-12-31T23:59:59-01:00", "Must lie between 1970-01-01 and 2099-12-31"),
        ("1969-12-31T23:59:59+00:00", "Must lie between 1970-01-01 and 2099-12-31"),
        ("2100-01-01T00:00:00Z", "Must lie between 1970-01-01 and 2099-12-31"),
        ("2026-10-01T09:00:00+15:00", "within ±14:00"),
    ],
)
def test_bad_timestamps_are_400(value, expected, world_a, manager_api):
    single = manager_api.post("/api/v1/tickets/", ticket("INC-1", None, opened_at=value))
    assert single.status_code == 400
    assert expected in single.json()["opened_at"][0]

    pause = {"start": value, "end": None}
    bulk = manager_api.post(
        "/api/v1/tickets/", [ticket("INC-2", None), ticket("INC-3", None, pauses=[pause])]
    )
    assert bulk.status_code == 400
    assert expected in bulk.json()["errors"]["1"]["pauses"]["0"]["start"][0]
    assert _count(Ticket) == 0


@pytest.mark.parametrize(
    ("resource", "item", "field"),
    [
        ("tickets", {"first_response_at": "2026-10-01T08:59:59+02:00"}, "first_response_at"),
        ("tickets", {"resolved_at": "2026-10-01T06:00:00Z"}, "resolved_at"),
        ("tickets", {"closed_at": "2026-09-30T09:00:00+02:00"}, "closed_at"),
        ("tickets", {"contacts": -1}, "contacts"),
        ("tickets", {"contacts": True}, "contacts"),
        ("tickets", {"priority": "x" * 17}, "priority"),
        ("tickets", {"external_id": ""}, "external_id"),
        ("tickets", {"external_id": "x" * 129}, "external_id"),
        ("tickets", {"external_id": "nul\x00"}, "external_id"),
        ("tickets", {"opened_at": None}, "opened_at"),
        ("tickets", {"pauses": "none"}, "pauses"),
        ("outages", {"end": "2026-10-03T01:00:00Z"}, "end"),
        ("outages", {"end": "2026-10-03T00:00:00Z"}, "end"),
        ("outages", {"kind": "emergency"}, "kind"),
        ("outages", {"cause": "aliens"}, "cause"),
        ("outages", {"service": None}, "service"),
        ("samples", {"value": "1e999"}, "value"),
        ("samples", {"value": "nan"}, "value"),
        ("samples", {"value": "fast"}, "value"),
        ("samples", {"metric": "Latency ms"}, "metric"),
        ("samples", {"at": "2026-10-03T12:00:00"}, "at"),
    ],
)
def test_field_errors_are_400_with_the_field_named(resource, item, field, world_a, manager_api):
    build = {"tickets": ticket, "outages": outage, "samples": sample}[resource]
    good = build("GOOD", world_a.service.pk)
    bad = {**build("BAD", world_a.service.pk), **item}

    response = manager_api.post(f"/api/v1/{resource}/", [good, bad])

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["1"]
    assert field in response.json()["errors"]["1"]
    assert _count(MODELS[resource]) == 0


def test_pause_ending_before_it_starts_is_400(world_a, manager_api):
    pause = {"start": "2026-10-01T11:00:00+02:00", "end": "2026-10-01T10:00:00+02:00"}
    reason = {"start": "2026-10-01T11:00:00+02:00", "reason": "coffee"}

    response = manager_api.post("/api/v1/tickets/", ticket("INC-1", None, pauses=[pause, reason]))

    assert response.status_code == 400
    assert response.json()["pauses"] == {
        "0": {"end": ["Must be after start."]},
        "1": {"reason": ["'coffee' is not one of: other, waiting_customer, waiting_third_party."]},
    }
    assert _count(Ticket) == 0


def test_unknown_service_and_customer_are_400_by_index(world_a, manager_api):
    with schema_context(TENANT_A.schema):
        provider_party = PartyFactory(name="Provider sub", kind=PartyKind.PROVIDER)
    items = [
        ticket("INC-0", world_a.service.pk),
        ticket("INC-1", 987654),
        ticket("INC-2", None, customer=987654),
        ticket("INC-3", None, customer=provider_party.pk),
        ticket("INC-4", "not-an-id"),
    ]

    response = manager_api.post("/api/v1/tickets/", items)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["1"] == {"service": ["No service with id 987654."]}
    assert errors["2"] == {"customer": ["No party with id 987654."]}
    assert "customer or an internal department" in errors["3"]["customer"][0]
    assert errors["4"] == {"service": ["Expected a whole number."]}
    assert "0" not in errors
    assert _count(Ticket) == 0


def test_internal_department_may_be_the_customer(world_a, manager_api):
    with schema_context(TENANT_A.schema):
        department = PartyFactory(name="IT dept", kind=PartyKind.INTERNAL, parent=world_a.provider)
    response = manager_api.post("/api/v1/tickets/", ticket("INC-1", None, customer=department.pk))
    assert response.status_code == 201, response.content


def test_shapes_that_are_not_objects_are_400(world_a, manager_api):
    assert manager_api.post("/api/v1/tickets/", [1, "x"]).json() == {
        "errors": {
            "0": {"non_field_errors": ["Expected an object."]},
            "1": {"non_field_errors": ["Expected an object."]},
        }
    }
    not_json = manager_api.post("/api/v1/tickets/", "{", content_type="application/json")
    assert not_json.status_code == 400
    form = manager_api.post("/api/v1/tickets/", {"external_id": "x"}, format="multipart")
    assert form.status_code == 415
    assert _count(Ticket) == 0


def test_too_many_items_is_400(world_a, manager_api, monkeypatch):
    monkeypatch.setattr("apps.measurements.api.MAX_ITEMS", 2)
    response = manager_api.post("/api/v1/tickets/", [ticket(str(n), None) for n in range(3)])
    assert response.status_code == 400
    assert "At most 2 items" in response.json()["non_field_errors"][0]


def test_nan_literal_is_400(world_a, manager_api):
    body = '[{"external_id": "S", "service": 1, "metric": "m", "at": "x", "value": NaN}]'
    response = manager_api.post("/api/v1/samples/", body, content_type="application/json")
    assert response.status_code == 400


def test_a_constraint_the_checks_missed_is_a_400_not_a_500(world_a, manager_api, monkeypatch):
    """The safety net: were a check ever missing (or a service deleted meanwhile), the
    database's refusal becomes a 400, the savepoint is undone and the request goes on."""
    monkeypatch.setattr(parsing, "_check_references", lambda items: None)

    response = manager_api.post("/api/v1/tickets/", [ticket("OK", None), ticket("X", 987654)])

    assert response.status_code == 400
    assert "constraint" in response.json()["non_field_errors"][0]
    assert _count(Ticket) == 0 and _count(TicketPause) == 0
    monkeypatch.undo()
    assert manager_api.post("/api/v1/tickets/", ticket("OK", None)).status_code == 201


def test_empty_list_writes_nothing(world_a, manager_api):
    assert manager_api.post("/api/v1/tickets/", []).json() == {
        "created": 0,
        "updated": 0,
        "ids": [],
    }


def _queries_of(post, monkeypatch) -> tuple[object, int]:
    """The response and the statements it took: Django's log (django-tenants' SETs aside)
    plus the bulk statements ingestion runs on a raw psycopg cursor."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    raw = []
    real, real_copy = _real_execute, ingestion._copy
    monkeypatch.setattr(
        ingestion, "_execute", lambda sql, params: raw.append(sql) or real(sql, params)
    )
    monkeypatch.setattr(
        ingestion, "_copy", lambda sql, *args: raw.append(sql) or real_copy(sql, *args)
    )
    with CaptureQueriesContext(connection) as captured:
        response = post()
    statements = [q for q in captured if not q["sql"].startswith("SET search_path")]
    return response, len(statements) + len(raw)


def test_bulk_takes_the_same_queries_for_10_and_300_items(world_a, manager_api, monkeypatch):
    def items(prefix: str, count: int) -> list[dict]:
        return [
            ticket(f"{prefix}-{n}", world_a.service.pk, customer=world_a.party_x.pk)
            for n in range(count)
        ]

    manager_api.post("/api/v1/tickets/", items("warm", 1))
    small, small_queries = _queries_of(
        lambda: manager_api.post("/api/v1/tickets/", items("a", 10)), monkeypatch
    )
    large, large_queries = _queries_of(
        lambda: manager_api.post("/api/v1/tickets/", items("b", 300)), monkeypatch
    )
    again, again_queries = _queries_of(
        lambda: manager_api.post("/api/v1/tickets/", items("b", 300)), monkeypatch
    )

    assert (small.status_code, large.status_code, again.status_code) == (201, 201, 201)
    assert small_queries == large_queries <= 12  # tenant, token, service, party, writes
    assert again_queries == large_queries + 1  # the DELETE of the replaced pauses
    assert again.json()["updated"] == 300
    assert _count(TicketPause) == 311


def test_no_put_patch_or_delete(world_a, manager_api):
    pk = manager_api.post("/api/v1/tickets/", ticket("INC-1", None)).json()["ids"][0]
    for method in ("put", "patch", "delete"):
        assert getattr(manager_api, method)(f"/api/v1/tickets/{pk}/", {}).status_code == 405


def test_schema_documents_one_or_many(world_a, manager_api):
    schema = manager_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for resource in ("tickets", "outages", "samples"):
        assert f"/api/v1/{resource}/" in paths
        assert "201" in paths[f"/api/v1/{resource}/"]["post"]["responses"]
    assert "/api/v1/tickets/{id}/exclude/" in paths
    assert "/api/v1/outages/{id}/reinstate/" in paths
    ingest = schema.json()["components"]["schemas"]["TicketIngest"]
    assert len(ingest["oneOf"]) == 2

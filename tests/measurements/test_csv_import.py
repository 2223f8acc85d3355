"""The provider admin: CSV import (atomic, every bad row listed), templates, exclusion actions."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.measurements.csv_import import CsvImportError, csv_import, parse_pauses
from apps.measurements.models import ExclusionEvent, Outage, Sample, Ticket, TicketPause
from tests.conftest import TENANT_A

IMPORT_URL = "/admin/measurements/ticket/import-csv/"


def _upload(client, kind: str, text: str | bytes, follow: bool = True):
    data = text.encode() if isinstance(text, str) else text
    upload = SimpleUploadedFile(f"{kind}.csv", data, content_type="text/csv")
    return client.post(IMPORT_URL, {"kind": kind, "file": upload}, follow=follow)


def _tickets_csv(service: int, *rows: str) -> str:
    header = "external_id,service,priority,opened_at,first_response_at,closed_at,pauses"
    return "\n".join([header, *(row.format(service=service) for row in rows)]) + "\n"


def _count(model) -> int:
    with schema_context(TENANT_A.schema):
        return model.objects.count()


def test_changelists_offer_the_import(admin_client):
    for model in ("ticket", "outage", "sample"):
        page = admin_client.get(f"/admin/measurements/{model}/")
        assert page.status_code == 200
        assert f'href="/admin/measurements/{model}/import-csv/"' in page.text
    form = admin_client.get(IMPORT_URL)
    assert form.status_code == 200
    assert "start/end/reason" in form.text
    assert "tickets-template.csv" in form.text


def test_good_file_imports_and_a_repeat_updates(world_a, admin_client):
    text = _tickets_csv(
        world_a.service.pk,
        "INC-1,{service},P1,2026-10-01T09:00:00+02:00,2026-10-01T09:10:00+02:00,,"
        '"2026-10-01T10:00:00+02:00/2026-10-01T11:00:00+02:00/waiting_customer;'
        '2026-10-01T12:00:00+02:00//waiting_third_party"',
        "INC-2,,,2026-10-02T09:00:00Z,,2026-10-02T10:00:00Z,",
        ",,,,,,",
    )

    first = _upload(admin_client, "tickets", text)

    assert "Imported tickets: created 2, updated 0." in first.text
    assert first.redirect_chain[-1][0] == "/admin/measurements/ticket/"
    with schema_context(TENANT_A.schema):
        one = Ticket.objects.get(external_id="INC-1")
        assert (one.service_id, one.priority, one.closed_at) == (world_a.service.pk, "P1", None)
        assert [(p.end is None, p.reason) for p in one.pauses.order_by("start")] == [
            (False, "waiting_customer"),
            (True, "waiting_third_party"),
        ]
        assert Ticket.objects.get(external_id="INC-2").service_id is None

    again = _upload(admin_client, "tickets", text.replace("P1", "P2"))
    assert "Imported tickets: created 0, updated 2." in again.text
    assert _count(Ticket) == 2 and _count(TicketPause) == 2


def test_bad_file_lists_every_bad_row_and_writes_nothing(world_a, admin_client):
    text = _tickets_csv(
        world_a.service.pk,
        "OK-1,{service},P1,2026-10-01T09:00:00+02:00,,,",
        "BAD-3,{service},P1,2026-10-01T09:00:00,,,",
        'OK-4,{service},"P1',
        '",2026-10-01T09:00:00Z,,,',
        "BAD-6,999999,P1,2026-02-30T09:00:00Z,,,",
        "BAD-7,{service},P1,2026-10-01T09:00:00Z,2026-10-01T08:00:00Z,,"
        "2026-10-01T10:00:00Z/2026-10-01T09:00:00Z/nap",
        "OK-1,{service},P1,2026-10-01T09:00:00Z,,,",
    )

    page = _upload(admin_client, "tickets", text)

    assert page.status_code == 200
    assert "Nothing was imported" in page.text
    rows = page.text.split('class="csv-problem"')[1:]
    lines = [row.split("<td>")[1].split("</td>")[0] for row in rows]
    assert lines == ["2", "3", "6", "7", "8"]
    assert "line 8" in rows[0] and "line 2" in rows[4]
    assert "UTC offset" in rows[1]
    assert "No service with id 999999." in rows[2] and "day is out of range" in rows[2]
    assert "first_response_at: Must not be before opened_at." in rows[3]
    assert "pauses: pause 1: end: Must be after start." in rows[3]
    assert "pauses: pause 1: reason: &#x27;nap&#x27; is not one of" in rows[3]
    assert _count(Ticket) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("external_id,opened,service\nA,2026-10-01T09:00:00Z,\n", "Unknown column(s) opened"),
        ("external_id,service\nA,1\n", "Missing required column(s): opened_at"),
        ("external_id,opened_at,opened_at\n", "Column(s) given twice: opened_at"),
        ("", "The submitted file is empty."),
        ("external_id,opened_at\nA,2026-10-01T09:00:00Z,extra\n", "3 cells but 2 columns"),
    ],
)
def test_file_shape_problems(text, message, admin_client):
    page = _upload(admin_client, "tickets", text)
    assert message in page.text
    assert _count(Ticket) == 0


def test_non_utf8_file_is_refused(admin_client):
    page = _upload(admin_client, "tickets", "external_id,opened_at\nÄ,x\n".encode("latin-1"))
    assert "not UTF-8" in page.text


def test_semicolons_and_bom_are_understood(world_a, admin_client):
    text = (
        "\ufeffexternal_id;service;start;end;kind;cause\n"
        "OUT-1;{0};2026-10-03T01:00:00Z;;planned;customer\n"
    )
    upload = SimpleUploadedFile("o.csv", text.format(world_a.service.pk).encode(), "text/csv")
    page = admin_client.post(
        "/admin/measurements/outage/import-csv/", {"kind": "outages", "file": upload}, follow=True
    )
    assert "Imported outages: created 1, updated 0." in page.text
    with schema_context(TENANT_A.schema):
        assert Outage.objects.get().kind == "planned"


@pytest.mark.parametrize(
    ("kind", "model"), [("tickets", Ticket), ("outages", Outage), ("samples", Sample)]
)
def test_each_template_downloads_and_imports_as_is(kind, model, world_a, admin_client):
    response = admin_client.get(f"/admin/measurements/ticket/import-csv/{kind}.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    header = next(csv.reader(io.StringIO(text)))
    assert header[0] == "external_id" and "service" in header
    page = _upload(admin_client, kind, text)
    assert f"Imported {kind}: created 1, updated 0." in page.text
    assert _count(model) == 1


def test_unknown_template_is_404(admin_client):
    assert admin_client.get("/admin/measurements/ticket/import-csv/parties.csv").status_code == 404


def test_staff_without_add_permission_cannot_import(world_a, client_a):
    with schema_context(TENANT_A.schema):
        world_a.staff.set_password("staff-pass-123")
        world_a.staff.save()
    client_a.post(
        "/admin/login/", {"username": world_a.staff.username, "password": "staff-pass-123"}
    )
    upload = SimpleUploadedFile("t.csv", b"external_id,opened_at\nA,2026-10-01T09:00:00Z\n")
    response = client_a.post(IMPORT_URL, {"kind": "tickets", "file": upload})
    assert response.status_code == 403
    assert _count(Ticket) == 0


def test_exclude_action_needs_a_reason_and_records_it(world_a, admin_client):
    _upload(
        admin_client, "tickets", _tickets_csv(world_a.service.pk, "INC-1,,,2026-10-01T09:00:00Z,,,")
    )
    with schema_context(TENANT_A.schema):
        pk = Ticket.objects.get().pk
    action = {"action": "exclude_selected", "_selected_action": [pk], "index": 0}

    refused = admin_client.post(
        "/admin/measurements/ticket/", {**action, "reason": ""}, follow=True
    )
    assert "Give a reason" in refused.text
    assert _count(ExclusionEvent) == 0

    done = admin_client.post(
        "/admin/measurements/ticket/", {**action, "reason": "Customer asked"}, follow=True
    )
    assert "1 excluded." in done.text
    with schema_context(TENANT_A.schema):
        event = ExclusionEvent.objects.get()
        assert (event.ticket_id, event.excluded, event.reason) == (pk, True, "Customer asked")
    detail = admin_client.get(f"/admin/measurements/ticket/{pk}/change/")
    assert detail.status_code == 200 and "Customer asked" in detail.text

    back = {**action, "action": "reinstate_selected", "reason": "Our fault"}
    assert (
        "1 reinstated." in admin_client.post("/admin/measurements/ticket/", back, follow=True).text
    )
    assert _count(ExclusionEvent) == 2


def test_csv_import_service_refuses_an_empty_file(world_a):
    with schema_context(TENANT_A.schema), pytest.raises(CsvImportError) as caught:
        csv_import(kind="samples", data=b"", acting_user=world_a.manager)
    assert caught.value.problems[0].messages == ["The file is empty."]


def test_parse_pauses():
    assert parse_pauses(" a/b/other ; c// ;;d ") == [
        {"start": "a", "end": "b", "reason": "other"},
        {"start": "c", "end": None, "reason": None},
        {"start": "d", "end": None, "reason": None},
    ]


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (10_001, "A cell holds more than 10000 characters."),
        (200_000, "Not readable as CSV"),  # past csv.field_size_limit(): csv.Error, not a 500
    ],
)
def test_an_over_long_cell_is_a_form_error_and_writes_nothing(size, message, world_a, admin_client):
    text = (
        f"external_id,opened_at,service\n{'A' * size},2026-10-01T09:00:00Z,{world_a.service.pk}\n"
    )
    page = _upload(admin_client, "tickets", text)
    assert page.status_code == 200
    assert message in page.text
    assert _count(Ticket) == 0

"""/api/v1/credits/ for the whole cast, the lifecycle endpoints and the OpenAPI schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.calendars.periods import parse_period
from apps.compliance.models import ComplianceResult
from apps.credits.models import ServiceCredit
from apps.credits.services import credit_calculate
from tests.conftest import TENANT_A, TENANT_B, api_as
from tests.credits.helpers import result

FIELDS = {
    "id",
    "agreement",
    "revision",
    "period",
    "percent",
    "uncapped_percent",
    "cap_percent",
    "fee_basis",
    "amount",
    "currency",
    "status",
    "objectives",
    "resolution",
    "calculated_at",
    "events",
}


@pytest.fixture
def credit(world_a):
    with schema_context(TENANT_A.schema):
        result(world_a, attained="99.5")
        return credit_calculate(agreement=world_a.agreement_x, period=parse_period("2026-10"))


@pytest.fixture
def as_manager(world_a, api_a):
    with schema_context(TENANT_A.schema):
        return api_as(api_a, world_a.manager)


@pytest.fixture
def as_customer_x(world_a):
    """A client of its own, so it can be used beside ``as_manager``."""
    with schema_context(TENANT_A.schema):
        return api_as(APIClient(HTTP_HOST=TENANT_A.host), world_a.customer_x)


def test_provider_manager_lists_credits_with_their_figures(world_a, credit, as_manager):
    response = as_manager.get(
        "/api/v1/credits/", {"agreement": world_a.agreement_x.pk, "period": "2026-10"}
    )

    assert response.status_code == 200, response.content
    [item] = response.json()["results"]
    assert set(item) == FIELDS
    assert item["id"] == credit.pk and item["agreement"] == world_a.agreement_x.pk
    assert (item["amount"], item["fee_basis"], item["currency"]) == ("100.00", "1000.00", "EUR")
    assert (item["percent"], item["uncapped_percent"], item["cap_percent"]) == (
        "10.00",
        "10.00",
        "100.00",
    )
    assert item["status"] == "calculated"
    assert item["objectives"][0]["key"] == "availability"
    assert item["objectives"][0]["percent"] == "10"
    assert item["events"] == [
        {
            "from_status": "",
            "to_status": "calculated",
            "note": "Calculated: 10 % of 1000.00 EUR = 100.00 EUR.",
            "amount": "100.00",
            "by": None,
            "at": item["events"][0]["at"],
        }
    ]
    assert "+" in item["events"][0]["at"] or item["events"][0]["at"].endswith("Z")
    other_period = as_manager.get("/api/v1/credits/", {"period": "2026-11"})
    assert other_period.json()["count"] == 0


def test_amounts_carry_the_minor_unit_of_their_currency(world_a, credit, as_manager):
    with schema_context(TENANT_A.schema):
        ServiceCredit.objects.filter(pk=credit.pk).update(
            currency="JPY", amount=Decimal("1235"), fee_basis=Decimal("12345")
        )
    item = as_manager.get(f"/api/v1/credits/{credit.pk}/").json()
    assert (item["amount"], item["fee_basis"]) == ("1235", "12345")

    with schema_context(TENANT_A.schema):
        ServiceCredit.objects.filter(pk=credit.pk).update(
            currency="KWD", amount=Decimal("1.235"), fee_basis=Decimal("12.345")
        )
    item = as_manager.get(f"/api/v1/credits/{credit.pk}/").json()
    assert (item["amount"], item["fee_basis"]) == ("1.235", "12.345")


def test_provider_manager_approves_and_issues(world_a, credit, as_manager):
    approved = as_manager.post(f"/api/v1/credits/{credit.pk}/approve/", {"note": "Checked."})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["events"][-1]["by"] == world_a.manager.username

    issued = as_manager.post(f"/api/v1/credits/{credit.pk}/issue/")
    assert issued.status_code == 200 and issued.json()["status"] == "issued"
    with schema_context(TENANT_A.schema):
        assert ComplianceResult.objects.get(agreement=world_a.agreement_x).final

    again = as_manager.post(f"/api/v1/credits/{credit.pk}/void/", {"note": "Oops."})
    assert again.status_code == 409  # a state conflict, not bad input
    assert "Allowed moves from issued" in again.json()["status"][0]


def test_resolve_and_void_validate_their_input(world_a, credit, as_manager, as_customer_x):
    no_note = as_manager.post(f"/api/v1/credits/{credit.pk}/void/", {})
    assert no_note.status_code == 400 and "note" in no_note.json()
    disputed = as_customer_x.post(f"/api/v1/credits/{credit.pk}/dispute/", {"note": "Longer."})
    assert disputed.status_code == 200

    missing = as_manager.post(f"/api/v1/credits/{credit.pk}/resolve/", {"amount": "150"})
    too_much = as_manager.post(
        f"/api/v1/credits/{credit.pk}/resolve/", {"resolution": "Agreed.", "amount": "5000"}
    )
    resolved = as_manager.post(
        f"/api/v1/credits/{credit.pk}/resolve/", {"resolution": "Agreed.", "amount": "150"}
    )

    assert missing.status_code == 400 and "resolution" in missing.json()
    assert too_much.status_code == 400 and "amount" in too_much.json()
    assert resolved.status_code == 200, resolved.content
    assert (resolved.json()["status"], resolved.json()["amount"]) == ("resolved", "150.00")
    assert resolved.json()["resolution"] == "Agreed."


def test_customer_sees_own_credit_and_disputes_it(world_a, credit, as_customer_x):
    # Prove the negative first: the customer may not approve.
    refused = as_customer_x.post(f"/api/v1/credits/{credit.pk}/approve/")
    assert refused.status_code == 403
    assert as_customer_x.post(f"/api/v1/credits/{credit.pk}/void/", {}).status_code == 403
    no_note = as_customer_x.post(f"/api/v1/credits/{credit.pk}/dispute/", {})
    assert no_note.status_code == 400 and "note" in no_note.json()

    listed = as_customer_x.get("/api/v1/credits/")
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["results"]] == [credit.pk]
    assert as_customer_x.get(f"/api/v1/credits/{credit.pk}/").status_code == 200

    disputed = as_customer_x.post(
        f"/api/v1/credits/{credit.pk}/dispute/", {"note": "The outage lasted 3 h."}
    )
    assert disputed.status_code == 200, disputed.content
    assert disputed.json()["status"] == "disputed"
    last = disputed.json()["events"][-1]
    assert (last["by"], last["note"]) == (world_a.customer_x.username, "The outage lasted 3 h.")


def test_other_customer_gets_404(world_a, credit, api_a):
    with schema_context(TENANT_A.schema):
        api_as(api_a, world_a.customer_y)

    assert api_a.get(f"/api/v1/credits/{credit.pk}/").status_code == 404
    assert api_a.get("/api/v1/credits/").json()["count"] == 0
    # X's agreement id is as unknown to Y as one that does not exist.
    theirs = api_a.get("/api/v1/credits/", {"agreement": world_a.agreement_x.pk})
    missing = api_a.get("/api/v1/credits/", {"agreement": 999_999})
    assert theirs.status_code == missing.status_code == 400
    assert theirs.json() == missing.json()
    assert api_a.post(f"/api/v1/credits/{credit.pk}/dispute/", {"note": "x"}).status_code == 404


def test_credits_are_read_only_apart_from_their_lifecycle(world_a, credit, as_manager):
    assert as_manager.post("/api/v1/credits/", {}).status_code == 405
    assert as_manager.put(f"/api/v1/credits/{credit.pk}/", {}).status_code == 405
    assert as_manager.patch(f"/api/v1/credits/{credit.pk}/", {}).status_code == 405
    assert as_manager.delete(f"/api/v1/credits/{credit.pk}/").status_code == 405


def test_other_tenant_reaches_nothing(world_a, world_b, credit, api_a, api_b):
    with schema_context(TENANT_B.schema):
        api_as(api_b, world_b.manager)
        token_b = api_b._credentials["HTTP_AUTHORIZATION"]

    api_a.credentials(HTTP_AUTHORIZATION=token_b)
    assert api_a.get("/api/v1/credits/").status_code == 401
    assert api_a.get(f"/api/v1/credits/{credit.pk}/").status_code == 401
    assert api_a.post(f"/api/v1/credits/{credit.pk}/approve/").status_code == 401

    # On its own host B has no credits, and A's credit id is nothing there.
    assert api_b.get("/api/v1/credits/").json()["count"] == 0
    assert api_b.get(f"/api/v1/credits/{credit.pk}/").status_code == 404
    assert api_b.post(f"/api/v1/credits/{credit.pk}/approve/").status_code == 404
    with schema_context(TENANT_A.schema):
        assert ServiceCredit.objects.get(pk=credit.pk).status == "calculated"


def test_anonymous_gets_401(credit, api_a):
    assert api_a.get("/api/v1/credits/").status_code == 401
    assert api_a.get(f"/api/v1/credits/{credit.pk}/").status_code == 401
    assert api_a.post(f"/api/v1/credits/{credit.pk}/dispute/", {"note": "x"}).status_code == 401


def test_schema_documents_the_credit_endpoints(world_a, as_manager):
    response = as_manager.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert "get" in paths["/api/v1/credits/"]
    assert "post" not in paths["/api/v1/credits/"]
    assert "get" in paths["/api/v1/credits/{id}/"]
    for move in ("approve", "issue", "dispute", "resolve", "void"):
        assert "post" in paths[f"/api/v1/credits/{{id}}/{move}/"], move
    parameters = {p["name"] for p in paths["/api/v1/credits/"]["get"]["parameters"]}
    assert {"agreement", "period"} <= parameters
    credit = schema["components"]["schemas"]["ServiceCredit"]["properties"]
    assert credit["objectives"]["type"] == "array"
    assert credit["amount"]["type"] == "string"
    assert "resolution" in schema["components"]["schemas"]["CreditResolveRequest"]["required"]
    assert "note" in schema["components"]["schemas"]["CreditNoteRequest"]["required"]

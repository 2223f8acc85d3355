"""The OpenAPI schema (/api/schema/) lists the endpoints of every app."""

from __future__ import annotations


def test_openapi_schema_lists_every_endpoint(manager_api):
    schema = manager_api.get("/api/schema/?format=json").json()
    paths = set(schema["paths"])
    for expected in [
        "/api/v1/agreements/",
        "/api/v1/revisions/{id}/approve/",
        "/api/v1/revisions/{id}/accept/",
        "/api/v1/revisions/{id}/new-draft/",
        "/api/v1/revisions/{id}/diff/",
        "/api/v1/calendars/",
        "/api/v1/objectives/",
        "/api/v1/credit-tiers/",
        "/api/v1/parties/",
        "/api/v1/services/",
        "/api/v1/auth/token/",
    ]:
        assert expected in paths

"""Host names route to tenants; the public host to the platform; anything else 404."""

import pytest
from django.test import Client

from tests.conftest import PUBLIC_HOST, TENANT_A, TENANT_B, sign_in

pytestmark = pytest.mark.django_db


def test_tenant_host_serves_that_tenants_login_page(client_a, client_b):
    page_a = client_a.get("/login/")
    page_b = client_b.get("/login/")

    assert page_a.status_code == 200
    assert TENANT_A.name in page_a.text and TENANT_B.name not in page_a.text
    assert TENANT_B.name in page_b.text and TENANT_A.name not in page_b.text


def test_portal_root_sends_anonymous_visitors_to_login(client_a):
    response = client_a.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_public_host_serves_the_landing_page_not_a_tenant(public_client):
    response = public_client.get("/")

    assert response.status_code == 200
    assert "SLA Portal" in response.text
    assert TENANT_A.name not in response.text
    # The portal login exists only on tenant hosts.
    assert public_client.get("/login/").status_code == 404


@pytest.mark.parametrize(
    "host", ["nosuch.localhost", "tenant_template.localhost", "public.localhost"]
)
def test_unknown_host_is_404_never_the_public_schema(host):
    response = Client(HTTP_HOST=host).get("/")

    assert response.status_code == 404
    assert "SLA Portal platform" not in response.text


def test_health_reports_the_schema_it_served(client_a, public_client):
    assert client_a.get("/healthz").json() == {
        "status": "ok",
        "schema": TENANT_A.schema,
        "database": "ok",
        "redis": "ok",
    }
    assert public_client.get("/healthz").json()["schema"] == "public"


def test_platform_admin_lists_tenants_but_tenant_admin_does_not(client_a, public_client):
    from django.contrib.auth import get_user_model
    from django_tenants.utils import schema_context

    # Provider superuser on its own host: the admin has no Tenant model at all.
    sign_in(client_a, "admin_alpha")
    assert client_a.get("/admin/tenants/tenant/").status_code == 404

    with schema_context("public"):
        get_user_model().objects.create_superuser("operator", password="op-secret-123")
    response = public_client.post(
        "/admin/login/", {"username": "operator", "password": "op-secret-123", "next": "/admin/"}
    )
    assert response.status_code == 302
    listing = public_client.get("/admin/tenants/tenant/")
    assert listing.status_code == 200
    assert TENANT_A.name in listing.text and TENANT_B.name in listing.text


def test_public_host_constant_matches_settings(settings):
    assert settings.BASE_DOMAIN == PUBLIC_HOST

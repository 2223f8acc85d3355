"""A user of tenant A does not exist for tenant B: not by cookie, password or token."""

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from tests.conftest import PASSWORD, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def test_user_of_a_signs_in_on_a(client_a):
    response = client_a.post("/login/", {"username": "customer_x_alpha", "password": PASSWORD})

    assert response.status_code == 302
    assert client_a.get("/").status_code == 200


def test_session_cookie_of_a_is_not_a_session_on_b(client_a, client_b):
    # Prove the negative first: B does not know the visitor.
    assert client_b.get("/").status_code == 302
    client_a.post("/login/", {"username": "customer_x_alpha", "password": PASSWORD})
    assert client_a.get("/").status_code == 200

    for name, morsel in client_a.cookies.items():
        client_b.cookies[name] = morsel.value
    response = client_b.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_credentials_of_a_do_not_sign_in_on_b(client_b):
    response = client_b.post("/login/", {"username": "customer_x_alpha", "password": PASSWORD})

    assert response.status_code == 200  # the form again, with an error
    assert "correct username and password" in response.text
    assert client_b.get("/").status_code == 302


def test_usernames_live_in_their_own_schema():
    with schema_context(TENANT_A.schema):
        names_a = set(get_user_model().objects.values_list("username", flat=True))
    with schema_context(TENANT_B.schema):
        names_b = set(get_user_model().objects.values_list("username", flat=True))

    assert "admin_alpha" in names_a and "admin_alpha" not in names_b
    assert "admin_beta" in names_b and "admin_beta" not in names_a


def test_api_token_works_only_on_its_own_tenant(api_a, api_b):
    issued = api_a.post(
        "/api/v1/auth/token/", {"username": "manager_alpha", "password": PASSWORD}, format="json"
    )
    assert issued.status_code == 200
    token = issued.json()["token"]

    refused = api_b.post(
        "/api/v1/auth/token/", {"username": "manager_alpha", "password": PASSWORD}, format="json"
    )
    assert refused.status_code == 400

    api_b.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_b.get("/api/schema/").status_code == 401
    api_a.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_a.get("/api/schema/").status_code == 200


def test_anonymous_api_is_401(api_a):
    assert api_a.get("/api/schema/").status_code == 401

"""Brute-force protection: repeated wrong passwords lock the account, per tenant."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django_tenants.utils import schema_context

from tests.conftest import PASSWORD, TENANT_A

pytestmark = pytest.mark.django_db


def _attempt(client, password):
    return client.post("/login/", {"username": "customer_x_alpha", "password": password})


def test_wrong_passwords_lock_the_account_on_that_tenant_only(client_a, client_b):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _attempt(client_a, "wrong").status_code == 200  # the form, with an error
    assert _attempt(client_a, "wrong").status_code == 429

    locked = _attempt(client_a, PASSWORD)  # even the right password, for now
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.text

    # Tenant B has its own users and its own lockouts.
    response = client_b.post("/login/", {"username": "customer_x_beta", "password": PASSWORD})
    assert response.status_code == 302


def test_a_success_resets_the_count(client_a):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _attempt(client_a, "wrong")
    assert _attempt(client_a, PASSWORD).status_code == 302
    client_a.post("/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _attempt(client_a, "wrong").status_code == 200


def test_the_token_endpoint_is_protected_too(api_a):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_a.post(
            "/api/v1/auth/token/", {"username": "manager_alpha", "password": "x"}, format="json"
        )

    response = api_a.post(
        "/api/v1/auth/token/", {"username": "manager_alpha", "password": PASSWORD}, format="json"
    )

    # Locked out: 429 with Retry-After, like the login page, right password or not.
    assert response.status_code == 429
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "token" not in response.json()

    # The right password was refused because of the lockout, and only because of it.
    with schema_context(TENANT_A.schema):
        AccessAttempt.objects.all().delete()
    unlocked = api_a.post(
        "/api/v1/auth/token/", {"username": "manager_alpha", "password": PASSWORD}, format="json"
    )
    assert unlocked.status_code == 200 and "token" in unlocked.json()

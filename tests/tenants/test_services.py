"""Tenant creation: the service, its validation and the management command."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from apps.tenants.models import Domain, Tenant
from apps.tenants.services import tenant_create

pytestmark = pytest.mark.django_db


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def test_creates_schema_domain_and_admin_by_cloning_the_template():
    created = tenant_create(
        slug="gamma", name="Gamma Ltd", admin_username="root", admin_password="s3cret-pass!"
    )

    assert created.cloned is True
    assert schema_exists("gamma")
    assert _tables("gamma") == _tables("tenant_template")
    assert "auth_user" in _tables("gamma")
    assert Domain.objects.get(tenant=created.tenant).domain == "gamma.localhost"
    with schema_context("gamma"):
        admin = get_user_model().objects.get()
        assert admin.username == "root" and admin.is_superuser
        # Migrations are recorded, so later migrate runs treat it like any tenant.
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM django_migrations")
            assert cursor.fetchone()[0] > 10
    with schema_context("tenant_template"):
        assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Gamma", "lowercase"),
        ("9lives", "lowercase"),
        ("a", "lowercase"),
        ("with-dash", "lowercase"),
        ("public", "reserved"),
        ("template", "reserved"),
        ("alpha", "already exists"),
    ],
)
def test_bad_slugs_are_refused_and_nothing_is_written(slug, message):
    before = (Tenant.objects.count(), Domain.objects.count())

    with pytest.raises(ValidationError) as excinfo:
        tenant_create(slug=slug, name="X")

    assert message in " ".join(excinfo.value.message_dict["slug"])
    assert (Tenant.objects.count(), Domain.objects.count()) == before


def test_half_an_admin_is_refused():
    with pytest.raises(ValidationError):
        tenant_create(slug="delta", name="Delta", admin_username="root")
    assert not Tenant.objects.filter(schema_name="delta").exists()
    assert not schema_exists("delta")


def test_failure_after_the_schema_exists_rolls_everything_back():
    # An invalid e-mail type makes create_superuser fail after the clone.
    with pytest.raises(Exception):  # noqa: B017 - any failure must roll back
        tenant_create(
            slug="epsilon", name="Epsilon", admin_username="x" * 300, admin_password="pw-123456"
        )
    assert not Tenant.objects.filter(schema_name="epsilon").exists()
    assert not schema_exists("epsilon")


def test_command_reports_domain_and_time(capsys):
    call_command(
        "tenant_create", "zeta", "--name", "Zeta GmbH", "--admin", "boss", "--password", "pw"
    )

    out = capsys.readouterr().out
    assert "zeta.localhost" in out and "cloned from the template" in out
    assert Tenant.objects.get(schema_name="zeta").name == "Zeta GmbH"


def test_command_turns_validation_errors_into_a_clear_message():
    with pytest.raises(CommandError, match="reserved"):
        call_command("tenant_create", "public", "--name", "Nope")

"""A no-op migrate skips tenants that are up to date, and still finds those that are not."""

import pytest
from django.core.management import call_command
from django.db import connection

from apps.tenants.schemas import schemas_behind

pytestmark = pytest.mark.django_db


def test_up_to_date_tenants_are_not_behind():
    assert schemas_behind(["alpha", "beta", "tenant_template"]) == []


def test_a_missing_migration_row_marks_that_schema_behind():
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM beta.django_migrations "
            "WHERE app = 'auth' AND name = '0012_alter_user_first_name_max_length'"
        )

    assert schemas_behind(["alpha", "beta"]) == ["beta"]


def test_a_schema_without_migrations_table_is_behind():
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA fresh")

    assert schemas_behind(["alpha", "fresh"]) == ["fresh"]


def test_noop_migrate_skips_every_tenant(capsys):
    call_command("migrate", interactive=False, verbosity=1)

    out = capsys.readouterr().out
    assert "migrating: 0" in out
    assert "[standard:alpha]" not in out

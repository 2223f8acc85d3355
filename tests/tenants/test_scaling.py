"""What the scale path (docs/SCALING.md) needs of every tenant schema, read from the catalog.

Citus' schema-based sharding places each distributed schema, whole, on one worker node:
its tables may refer to each other, to reference tables and to local tables of the
coordinator, but not to another distributed schema. And keys must not run out when
thousands of tenants each grow for years.
"""

from __future__ import annotations

import pytest
from django.db import connection

from apps.parties.services import DOMAIN_APPS
from tests.conftest import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _rows(sql: str, params: list[object]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def test_no_foreign_key_leaves_its_tenant_schema():
    schemas = [TENANT_A.schema, TENANT_B.schema, "tenant_template"]
    crossing = _rows(
        """
        SELECT src_ns.nspname, src.relname, con.conname, dst_ns.nspname, dst.relname
        FROM pg_constraint con
        JOIN pg_class src ON src.oid = con.conrelid
        JOIN pg_namespace src_ns ON src_ns.oid = src.relnamespace
        JOIN pg_class dst ON dst.oid = con.confrelid
        JOIN pg_namespace dst_ns ON dst_ns.oid = dst.relnamespace
        WHERE con.contype = 'f' AND src_ns.nspname = ANY(%s) AND dst_ns.oid <> src_ns.oid
        """,
        [schemas],
    )
    assert crossing == []
    # Not vacuous: the schemas have foreign keys, all inside themselves.
    inside = _rows(
        """
        SELECT count(*) FROM pg_constraint con
        JOIN pg_class src ON src.oid = con.conrelid
        JOIN pg_namespace ns ON ns.oid = src.relnamespace
        WHERE con.contype = 'f' AND ns.nspname = %s
        """,
        [TENANT_A.schema],
    )
    assert inside[0][0] > 50


def test_every_surrogate_key_of_the_domain_is_64_bit():
    """Our models' keys are bigint (DEFAULT_AUTO_FIELD). Django's own tables (auth,
    content types, admin log), django-axes' and simple-history's history ids are int4
    per schema: 2.1 billion rows per tenant and table (docs/SCALING.md)."""
    prefixes = [app + "\\_%" for app in DOMAIN_APPS]
    narrow = _rows(
        """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace ns ON ns.oid = c.relnamespace
        WHERE ns.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attidentity <> '' AND a.atttypid <> 'int8'::regtype
          AND c.relname LIKE ANY(%s) AND c.relname NOT LIKE '%%\\_historical%%'
        """,
        [TENANT_A.schema, prefixes],
    )
    assert narrow == []
    identities = _rows(
        """
        SELECT count(*) FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace ns ON ns.oid = c.relnamespace
        WHERE ns.nspname = %s AND c.relkind = 'r' AND a.attidentity <> ''
          AND c.relname LIKE ANY(%s) AND c.relname NOT LIKE '%%\\_historical%%'
        """,
        [TENANT_A.schema, prefixes],
    )
    assert identities[0][0] > 25  # the domain's tables were looked at


def test_tenant_schemas_hold_no_table_of_the_public_schema_and_vice_versa():
    def tables(schema: str) -> set[str]:
        return {
            name
            for (name,) in _rows("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        }

    public, tenant = tables("public"), tables(TENANT_A.schema)
    assert "tenants_tenant" in public and "tenants_tenant" not in tenant
    assert "agreements_agreement" in tenant and "agreements_agreement" not in public
    assert tables(TENANT_B.schema) == tenant  # every tenant schema has the same shape

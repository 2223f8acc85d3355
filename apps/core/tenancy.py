"""The schema the database connection is switched to (django-tenants), typed.

django-tenants adds ``schema_name`` and the schema switches to Django's connection
object at run time; these helpers are the one place that reaches for them.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, connections


def current_schema(alias: str = "default") -> str:
    """The schema the connection uses now ("public" outside a tenant)."""
    return str(getattr(connections[alias], "schema_name", "public"))


def use_public_schema(alias: str = "default") -> None:
    """Switch the connection back to the public schema."""
    wrapper: Any = connections[alias]
    wrapper.set_schema_to_public()


def current_tenant() -> Any:
    """The Tenant row the connection is switched to, when django-tenants set one."""
    return getattr(connection, "tenant", None)

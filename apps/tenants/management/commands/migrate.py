"""`manage.py migrate` is migrate_schemas, as with django-tenants, minus up-to-date tenants."""

from apps.tenants.management.commands.migrate_schemas import Command  # noqa: F401

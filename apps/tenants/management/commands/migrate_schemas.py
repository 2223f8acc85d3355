"""migrate_schemas that skips tenant schemas which are already up to date.

django-tenants runs Django's full ``migrate`` once per schema, which loads the
migration graph and reconnects each time: a no-op run costs about a second
per tenant, i.e. an hour for thousands of tenants. Here one query per batch
of schemas compares each schema's ``django_migrations`` with the migrations
on disk, and only schemas that are behind are handed to django-tenants.
Runs that name a schema, an app or a target migration, fake, plan or check
are passed through unchanged.
"""

from __future__ import annotations

from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.utils import get_public_schema_name, get_tenant_model

from apps.tenants.schemas import schemas_behind


class Command(MigrateSchemasCommand):
    def handle(self, *args, **options):
        passthrough = (
            options.get("schema_name")
            or options.get("app_label")
            or options.get("fake")
            or options.get("plan")
            or options.get("check_unapplied")
            or options.get("prune")
        )
        if passthrough:
            return super().handle(*args, **options)
        sync_public = options.get("shared") or not options.get("tenant")
        sync_tenant = options.get("tenant") or not options.get("shared")

        # 1. The public schema, as django-tenants does it.
        if sync_public:
            super().handle(*args, **{**options, "shared": True, "tenant": False})
        if not sync_tenant:
            return None

        # 2. Only the tenant schemas that are behind.
        public = get_public_schema_name()
        names = list(
            get_tenant_model()
            .objects.exclude(schema_name=public)
            .order_by("schema_name")
            .values_list("schema_name", flat=True)
        )
        behind = schemas_behind(names)
        verbosity = int(options.get("verbosity", 1))
        if verbosity >= 1:
            self.stdout.write(
                f"Tenant schemas: {len(names)}; up to date: {len(names) - len(behind)}; "
                f"migrating: {len(behind)}"
            )
        for name in behind:
            super().handle(*args, **{**options, "schema_name": name, "tenant": True})
        return None

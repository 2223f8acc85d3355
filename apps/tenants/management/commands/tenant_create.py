from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a provider tenant on <slug>.<BASE_DOMAIN>, cloned from the template schema."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Lowercase letters and digits; also the schema name.")
        parser.add_argument("--name", required=True, help="The provider's display name.")
        parser.add_argument("--admin", dest="admin_username", help="Create this superuser.")
        parser.add_argument("--password", dest="admin_password", help="The superuser's password.")
        parser.add_argument("--email", dest="admin_email", default="")
        parser.add_argument("--timezone", dest="default_timezone", default=None)

    def handle(
        self,
        *args,
        slug,
        name,
        admin_username,
        admin_password,
        admin_email,
        default_timezone,
        **options,
    ):
        try:
            created = tenant_create(
                slug=slug,
                name=name,
                admin_username=admin_username,
                admin_password=admin_password,
                admin_email=admin_email,
                default_timezone=default_timezone,
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from exc
        domain = created.tenant.get_primary_domain()
        how = "cloned from the template" if created.cloned else "migrated"
        self.stdout.write(
            self.style.SUCCESS(
                f"Created tenant '{slug}' on {domain} in {created.seconds:.2f} s ({how})."
            )
        )

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.demo.seed import DEMO_TENANTS, demo_password, seed_demo


class Command(BaseCommand):
    help = "Create (or complete) the demo tenants 'demo' and 'acme'. Safe to run again."

    def handle(self, *args, **options):
        password = seed_demo(log=self.stdout.write)
        _, generated = demo_password()
        port = 8000
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for spec in DEMO_TENANTS:
            host = f"{spec.slug}.{settings.BASE_DOMAIN}"
            names = ", ".join(user.username for user in spec.users)
            self.stdout.write(f"  {spec.name}: http://{host}:{port}/  users: {names}")
        source = "generated, kept in .data/demo-password" if generated else "from $DEMO_PASSWORD"
        self.stdout.write(f"  password for every demo user: {password}  ({source})")

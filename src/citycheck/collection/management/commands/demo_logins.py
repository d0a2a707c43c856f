from django.core.management.base import BaseCommand

from citycheck.collection.demo import DEMO_LOGINS, DEMO_PASSWORD, PLACE_ADMIN_PREFIX
from citycheck.core.choices import Role


class Command(BaseCommand):
    help = "列出演示账号（每个角色一个）。"

    def handle(self, *args, **options):
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in DEMO_LOGINS:
            where = login.place or "—"
            self.stdout.write(f"  {login.username:<20} {Role(login.role).label:<10} {where}")
        self.stdout.write(
            f"  Every other city and county: {PLACE_ADMIN_PREFIX}<code>, e.g. "
            f"{PLACE_ADMIN_PREFIX}360123"
        )

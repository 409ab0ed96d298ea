from django.core.management.base import BaseCommand

from insurance_admin.accounts.roles import ROLE_LABELS
from programs.management.commands.load_demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo logins created by load_demo."

    def handle(self, *args, **options):
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for username, role, _areas, display in DEMO_USERS:
            self.stdout.write(f"  {username:<22} {role:<14} {ROLE_LABELS[role]:<6} {display}")

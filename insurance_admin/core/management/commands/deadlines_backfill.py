"""Derive the deadline records of existing rows (claims, finance), e.g. after upgrading a
database that predates them. Idempotent: running it again changes nothing."""

from django.core.management.base import BaseCommand

from insurance_admin.core.deadlines import deadlines_backfill
from insurance_admin.core.models import Deadline


class Command(BaseCommand):
    help = "Create or update the deadline record of every existing obligation (idempotent)."

    def handle(self, *args, **options):
        for name, count in deadlines_backfill().items():
            self.stdout.write(f"{name}: {count} row(s) checked")
        self.stdout.write(self.style.SUCCESS(f"{Deadline.objects.count()} deadline(s) on file"))

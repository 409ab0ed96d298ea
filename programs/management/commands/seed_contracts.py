from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from programs.seed import load_seed, load_seed_plans


class Command(BaseCommand):
    help = "Create the four seed contracts, their parties and areas if missing (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            load_seed(apps)
            load_seed_plans(apps)
        self.stdout.write(self.style.SUCCESS("seed contracts present"))

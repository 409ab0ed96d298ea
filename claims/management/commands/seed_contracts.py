from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

# in claims, not programs: it seeds the claim terms on top of programs' contracts
from claims.seed import load_claim_terms, load_entitlements
from programs.seed import load_seed, load_seed_plans, run_seed_loaders


class Command(BaseCommand):
    help = "Create the four seed contracts, their parties, areas, rules and claim terms if missing (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            load_seed(apps)
            load_seed_plans(apps)
            load_claim_terms(apps)
            load_entitlements(apps)
            run_seed_loaders(apps)  # the higher apps' terms (finance)
        self.stdout.write(self.style.SUCCESS("seed contracts present"))

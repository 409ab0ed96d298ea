from django.core.management.base import BaseCommand, CommandError

from finance.checks import balance_mismatches, reversal_mismatches, trigger_problems
from finance.models import LedgerEntry


class Command(BaseCommand):
    help = "Prove that every finance balance equals the sum of its ledger entries; exit 1 on any mismatch."

    def handle(self, *args, **options):
        problems = [str(m) for m in balance_mismatches() + reversal_mismatches()]
        problems += trigger_problems()
        for line in problems:
            self.stderr.write(line)
        if problems:
            raise CommandError(f"finance_check: {len(problems)} problem(s)")
        self.stdout.write(f"finance_check: {LedgerEntry.objects.count()} entries, all balances equal the sum of their entries")

"""`python manage.py trial_calc --program CODE INPUT.json` (DOMAIN.md §4.5).

A dry run against the contract's stored benefit plan, starting from empty accumulators:
JSON result on stdout, nothing persisted. Bad input exits non-zero with a message naming the
record and the field.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from claims.engine import TrialInputError, run_trial
from claims.selectors import engine_plans
from programs.models import BenefitPlan


class Command(BaseCommand):
    help = "Trial calculation (试算) of settlement records against a program's benefit plan; prints JSON."
    requires_system_checks = []  # a calculator: the checks cost a third of a second per call

    def add_arguments(self, parser):
        parser.add_argument("--program", required=True, help="contract code (as in the contract list)")
        parser.add_argument("input", help="INPUT.json, or - for standard input")
        parser.add_argument("--no-explain", action="store_true", help="omit explanations (faster)")

    def handle(self, *args, program: str, input: str, no_explain: bool, **options):
        try:
            text = sys.stdin.buffer.read() if input == "-" else Path(input).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {input}: {exc.strerror}") from None
        # Only the requested plan is parsed and compiled; an unknown code still lists the known ones.
        plans = engine_plans([program]) or {code: None for code in BenefitPlan.objects.values_list("contract__code", flat=True)}
        try:
            output = run_trial(program, text, plans, explain=not no_explain)
        except TrialInputError as exc:
            raise CommandError(str(exc)) from None
        sys.stdout.buffer.write(output.encode())
        sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()

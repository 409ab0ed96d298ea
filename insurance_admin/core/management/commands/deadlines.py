"""`python manage.py deadlines --as-of YYYY-MM-DD [--contract CODE] [--area CODE] [--json]` (issue 20).

Every deadline with its state as of that day, from the same conditions the daily scan applies
(`insurance_admin.core.deadlines.state_conditions`), overdue first. `--json` prints a list of
objects with the keys kind, contract, area, object, due_date, state, role.
"""

import datetime as dt
import json as jsonlib

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from insurance_admin.core.models import Deadline
from insurance_admin.core.selectors import deadline_row, deadlines_as_of


class Command(BaseCommand):
    help = "List every deadline with its state as of a day (upcoming, due_soon, due_today, overdue, met)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today in Asia/Shanghai)")
        parser.add_argument("--contract", help="contract code (as in the contract list)")
        parser.add_argument("--area", help="area code; a region's code includes its counties")
        parser.add_argument("--kind", choices=Deadline.Kind.values)
        parser.add_argument("--state", choices=Deadline.State.values)
        parser.add_argument("--json", action="store_true", help="print a JSON list")

    def handle(self, *args, as_of=None, contract=None, area=None, kind=None, state=None, json=False, **options):
        try:
            on = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD)") from None
        Contract, Area = apps.get_model("programs", "Contract"), apps.get_model("programs", "Area")  # noqa: N806
        if contract and not Contract.objects.filter(code=contract).exists():
            raise CommandError(f"unknown contract {contract!r}")
        if area and not Area.objects.filter(code=area).exists():
            raise CommandError(f"unknown area {area!r}")
        rows = [deadline_row(d) for d in deadlines_as_of(on, contract=contract, area=area, kind=kind, state=state)]
        if json:
            self.stdout.write(_dumps(rows))
            return
        columns = ["kind", "contract", "area", "object", "due_date", "state", "role"]
        self.stdout.write("\t".join(columns))
        for row in rows:
            self.stdout.write("\t".join("" if row[c] is None else str(row[c]) for c in columns))
        self.stdout.write(self.style.SUCCESS(f"{len(rows)} deadline(s) as of {on.isoformat()}"))


def _dumps(rows) -> str:
    return jsonlib.dumps(rows, ensure_ascii=False, indent=1)

"""Run a renewal scenario (测算) over a contract year's stored settlements from the shell.

    python manage.py simulate --contract tongliao-2025 --scenario scenario.json [--json]

FILE holds the plan document (the engine's format, as a benefit plan stores it), either bare
or as {"plan": {...}, "per_capita": {"resident": "120.00"}, "target_surplus_rate": "0.03"}
(or "target_loss_ratio"); without a target the contract's own retention limit (FinanceTerms)
is the target surplus rate. The same service as the simulation page (finance/simulation.py).
"""

import json as _json
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from finance.selectors import terms_for
from finance.simulation import Scenario, simulate
from programs.models import Contract


def _decimal(value, name):
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        raise CommandError(f"{name} is not a number: {value!r}") from None


class Command(BaseCommand):
    help = "Simulate a contract year under a scenario plan and premium; print the comparison."

    def add_arguments(self, parser):
        parser.add_argument("--contract", required=True, help="contract code")
        parser.add_argument("--scenario", required=True, help="JSON file: the plan document, optional per-capita premiums")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, contract, scenario, json: bool = False, **options):
        try:
            obj = Contract.objects.get(code=contract)
        except Contract.DoesNotExist:
            raise CommandError(f"no contract {contract!r}") from None
        try:
            with open(scenario, encoding="utf-8") as fh:
                data = _json.load(fh)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the scenario file: {exc}") from None
        if not isinstance(data, dict):
            raise CommandError("the scenario file must hold a JSON object")
        plan = data.get("plan", data) if "plan" in data else data
        per_capita = data.get("per_capita") if "plan" in data else None
        surplus = _decimal(data.get("target_surplus_rate"), "target_surplus_rate") if "plan" in data else None
        loss = _decimal(data.get("target_loss_ratio"), "target_loss_ratio") if "plan" in data else None
        if surplus is None and loss is None:
            surplus = terms_for(obj).retention_limit
        try:
            result = simulate(obj, Scenario(plan=plan, per_capita=per_capita and {
                k: _decimal(v, f"per_capita.{k}") for k, v in per_capita.items()},
                target_surplus_rate=surplus, target_loss_ratio=loss))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if json:
            self.stdout.write(_json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
            return
        a, s = result.actual, result.scenario
        self.stdout.write(f"{obj.code}: {result.records} records ({result.not_covered} not covered)")
        self.stdout.write(f"{'':24}{'actual':>18}{'scenario':>18}")
        for label, x, y in (("payable", a.payable, s.payable), ("premium", a.premium, s.premium),
                            ("loss ratio", a.loss_ratio, s.loss_ratio), ("surplus rate", a.surplus_rate, s.surplus_rate),
                            ("persons at cap", a.persons_at_cap, s.persons_at_cap)):
            self.stdout.write(f"{label:24}{str(x):>18}{str(y):>18}")
        self.stdout.write(f"suggested per-capita premium: {result.suggested_per_capita} ({result.suggestion_formula})")

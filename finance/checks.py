"""The integrity proof behind `manage.py finance_check`: every cached balance equals the sum of
its ledger entries, every reversal mirrors its original, and the append-only triggers exist."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .ledger_triggers import TABLE, expected_triggers, trigger_states
from .models import LedgerEntry
from .services import BALANCE_FIELD, BOOK_OF_MODEL


@dataclass(frozen=True)
class Mismatch:
    what: str
    pk: int
    stored: Decimal | None
    computed: Decimal | None

    def __str__(self) -> str:
        return f"{self.what} #{self.pk}: stored {_fmt(self.stored)}, sum of entries {_fmt(self.computed)}"


def _fmt(value: Decimal | None) -> str:
    return "—" if value is None else format(value, ".2f")


def balance_mismatches() -> list[Mismatch]:
    """One query per book: rows whose cached balance differs from Σ of their entries."""
    problems = []
    for model, book in BOOK_OF_MODEL.items():
        field = BALANCE_FIELD[book]
        column = LedgerEntry.TARGETS[book]
        entry_sum = (
            LedgerEntry.objects.filter(**{column: OuterRef("pk")})
            .order_by()
            .values(column)
            .annotate(s=Sum("amount"))
            .values("s")
        )
        zero = Value(Decimal("0.00"), output_field=DecimalField(max_digits=14, decimal_places=2))
        rows = model.objects.annotate(computed=Coalesce(Subquery(entry_sum), zero)).values_list("pk", field, "computed")
        for pk, stored, computed in rows.iterator():
            if stored != computed:
                problems.append(Mismatch(f"{model._meta.label} {field}", pk, stored, computed))
    return problems


def reversal_mismatches() -> list[Mismatch]:
    problems = []
    for entry in LedgerEntry.objects.filter(reverses__isnull=False).select_related("reverses").iterator():
        original = entry.reverses
        target_col = LedgerEntry.TARGETS[entry.book]
        if entry.amount != -original.amount or getattr(entry, f"{target_col}_id") != getattr(original, f"{target_col}_id"):
            problems.append(Mismatch("finance.LedgerEntry reversal", entry.pk, entry.amount, -original.amount))
    return problems


def missing_triggers() -> list[str]:
    if connection.vendor not in ("sqlite", "postgresql"):
        return []
    return sorted(set(expected_triggers(connection.vendor)) - set(trigger_states(connection)))


TRIGGER_STATE_PROBLEMS = {
    "D": "is DISABLED (pg_trigger.tgenabled = 'D'): the ledger can be changed",
    "R": "fires only in replica mode (pg_trigger.tgenabled = 'R'): the ledger can be changed",
    "O": "is skipped under session_replication_role = replica (pg_trigger.tgenabled = 'O'; "
         "expected ENABLE ALWAYS)",
}


def trigger_problems() -> list[str]:
    """Every append-only trigger of the ledger exists and fires always; one line per problem."""
    if connection.vendor not in ("sqlite", "postgresql"):
        return []
    states = trigger_states(connection)
    problems = [f"append-only trigger missing on {TABLE}: {name}" for name in missing_triggers()]
    for name in expected_triggers(connection.vendor):
        if (state := states.get(name)) in TRIGGER_STATE_PROBLEMS:
            problems.append(f"append-only trigger {name} on {TABLE} {TRIGGER_STATE_PROBLEMS[state]}")
    return problems

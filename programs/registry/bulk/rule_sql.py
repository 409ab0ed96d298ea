"""The enrollment-change rule (`programs.registry.rule`) as SQL conditions, for millions of rows.

Built from the rule's own `ATTRIBUTES` and statuses. Each condition takes two functions that
name a value in the statement at hand: `new(name)` the list's value (the stage or the map
table), `old(name)` the enrollment's (the registry or the map's `e_` copies); names are the
Enrollment's field names. `tests/programs/test_registry_rule.py` runs this path and the ORM
path (which calls `rule.decide`) on the same list and compares the enrollments."""

from collections.abc import Callable

from ...models import EnrollmentPeriod
from ..rule import ATTRIBUTES, SUSPENDED, TERMINATED
from .tables import text

Name = Callable[[str], str]
_T = text(TERMINATED)
_OPEN = "'9999-12-31'"  # an open end compares as the last day


def attributes_changed(new: Name, old: Name) -> str:
    """`rule.attributes_changed`."""
    terms = [f"{new(a)} <> {old(a)}" for a in ATTRIBUTES]
    terms.append(f"({new('status')} <> {_T} AND {old('status')} <> {_T} AND {new('status')} <> {old('status')})")
    return "(" + " OR ".join(terms) + ")"


def end_changed(new: Name, old: Name) -> str:
    """`rule.end_changed`."""
    return (f"(COALESCE({new('enrolled_to')}, {_OPEN}) <> COALESCE({old('enrolled_to')}, {_OPEN})"
            f" OR ({new('status')} = {_T}) <> ({old('status')} = {_T}))")


def returns_after_gap(new: Name, old: Name) -> str:
    """`rule.returns_after_gap`; one parameter: the day before the effective date."""
    return (f"({old('status')} = {_T} AND {new('status')} <> {_T}"
            f" AND COALESCE({old('enrolled_to')}, {_OPEN}) < %s)")


def period_status(old: Name) -> str:
    """`rule.period_status`."""
    return (f"CASE WHEN {old('status')} = {text(SUSPENDED)} THEN {text(EnrollmentPeriod.Status.SUSPENDED)}"
            f" ELSE {text(EnrollmentPeriod.Status.ACTIVE)} END")


def person_changed(new_name: str, new_psn_no: str, old_name: str, old_psn_no: str) -> str:
    """`rule.person_changes` is not empty."""
    return f"({old_name} <> {new_name} OR ({new_psn_no} IS NOT NULL AND COALESCE({old_psn_no}, '') <> {new_psn_no}))"

"""What a new enrollment list does to an enrollment: the one statement of the rule.

Plain values in, a decision out, no database: the ORM path (`services.enrollment_list_row_apply`,
`services.enrollment_list_exits_apply`) applies a decision to one enrollment; the bulk path
(`programs.registry.bulk`) states the same rule in SQL for millions of rows, built from the
same `ATTRIBUTES` and statuses, and `tests/programs/test_registry_rule.py` runs both paths on
the same list and compares the enrollments they leave.

For a person on the list, the contract's (not cancelled) enrollment is
- **new** when there is none: enrolled with the row's values, attributes since the row's start;
- **unchanged** when neither the attributes nor the end differ;
- **changed** otherwise: the row's attributes, status and end replace the held ones. When the
  attributes change and the old ones held for at least a day before the list's effective date,
  the old state is kept as a period (to the day before) and the new one holds from the
  effective date. An exited enrollment on a later list again, with days between the exit and
  the effective date, keeps the old attributes until the exit and the gap as an `exited` period.
For a person missing from a complete list, an enrollment in force (active or suspended) of the
list's source in the list's areas **exits**: terminated, ending the day before the effective
date (never before it started).
"""

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from ..models import EnrollmentPeriod, EnrollmentStatus

#: the attributes a list may change; a change of any of them is dated (an EnrollmentPeriod)
ATTRIBUTES = ("area_id", "category", "category_detail", "employment")

ACTIVE, SUSPENDED, TERMINATED = EnrollmentStatus.ACTIVE, EnrollmentStatus.SUSPENDED, EnrollmentStatus.TERMINATED
#: the statuses an exit ends (in force); a terminated or cancelled enrollment stays as it is
IN_FORCE = (ACTIVE, SUSPENDED)

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Held:
    """The contract's enrollment of the person as it stands."""

    area_id: int
    category: str
    category_detail: str
    employment: str
    status: str
    enrolled_from: dt.date
    enrolled_to: dt.date | None
    attributes_from: dt.date | None

    @property
    def since(self) -> dt.date:
        """The day the current attributes hold from."""
        return self.attributes_from or self.enrolled_from


@dataclass(frozen=True)
class Listed:
    """The person's checked row on the list."""

    area_id: int
    category: str
    category_detail: str
    employment: str
    status: str
    enrolled_from: dt.date
    enrolled_to: dt.date | None


class Kind(StrEnum):
    NEW = "new"
    CHANGED = "update"
    UNCHANGED = "skip"
    EXIT = "exit"


@dataclass(frozen=True)
class Decision:
    kind: Kind
    #: the enrollment's fields after the list (only those that are set)
    values: dict = field(default_factory=dict)
    #: EnrollmentPeriod rows to record (the state before), as field dicts without the enrollment
    periods: tuple[dict, ...] = ()


def attributes_changed(held: Held, listed: Listed) -> bool:
    """Another area, category or employment, or a suspension begun or ended (an exit or a
    return is a change of the end, not of the attributes)."""
    return any(getattr(held, a) != getattr(listed, a) for a in ATTRIBUTES) or (
        TERMINATED not in (listed.status, held.status) and listed.status != held.status
    )


def end_changed(held: Held, listed: Listed) -> bool:
    """Another end date, or exited on one side only."""
    return held.enrolled_to != listed.enrolled_to or (listed.status == TERMINATED) != (held.status == TERMINATED)


def returns_after_gap(old_status: str, new_status: str, old_end: dt.date | None, effective_date: dt.date) -> bool:
    """An exited enrollment on a later list again, with at least one day between the exit and
    the list's effective date (the days between were not covered)."""
    return (old_status == TERMINATED and new_status != TERMINATED and old_end is not None
            and old_end < effective_date - DAY)


def gap_periods(since: dt.date, exit_end: dt.date, effective_date: dt.date) -> list[dict]:
    """The periods a return after a gap leaves behind: the old attributes while covered (from
    `since` to the exit), then the gap as `exited` (to the day before the return)."""
    periods = []
    if since <= exit_end:
        periods.append({"status": EnrollmentPeriod.Status.ACTIVE, "valid_from": since, "valid_to": exit_end})
    periods.append({"status": EnrollmentPeriod.Status.EXITED, "valid_from": exit_end + DAY,
                    "valid_to": effective_date - DAY})
    return periods


def period_status(held_status: str) -> str:
    """The status a period of the old attributes records."""
    return EnrollmentPeriod.Status.SUSPENDED if held_status == SUSPENDED else EnrollmentPeriod.Status.ACTIVE


def exit_end(enrolled_from: dt.date, effective_date: dt.date) -> dt.date:
    """The last day of an enrollment that exits with a list effective on `effective_date`."""
    return max(enrolled_from, effective_date - DAY)


def decide(held: Held | None, listed: Listed | None, effective_date: dt.date) -> Decision:
    """What the list does to one enrollment: `held` None when the person has none in the
    contract, `listed` None when the person is not on a complete list (and the enrollment is
    one the list's exits reach: its source, its areas)."""
    if listed is None:
        if held is None or held.status not in IN_FORCE:
            return Decision(Kind.UNCHANGED)
        return Decision(Kind.EXIT, {"status": TERMINATED, "enrolled_to": exit_end(held.enrolled_from, effective_date)})
    if held is None:
        values = {a: getattr(listed, a) for a in (*ATTRIBUTES, "status", "enrolled_from", "enrolled_to")}
        return Decision(Kind.NEW, {**values, "attributes_from": listed.enrolled_from})
    attr_changed, end_moved = attributes_changed(held, listed), end_changed(held, listed)
    if not (attr_changed or end_moved):
        return Decision(Kind.UNCHANGED)
    values = {a: getattr(listed, a) for a in (*ATTRIBUTES, "status", "enrolled_to")}
    old = {a: getattr(held, a) for a in ATTRIBUTES}
    periods: list[dict] = []
    if returns_after_gap(held.status, listed.status, held.enrolled_to, effective_date):
        periods = [{**old, **p} for p in gap_periods(held.since, held.enrolled_to, effective_date)]
        values["attributes_from"] = effective_date
    elif attr_changed and held.since < effective_date:
        periods = [{**old, "status": period_status(held.status), "valid_from": held.since,
                    "valid_to": effective_date - DAY}]
        values["attributes_from"] = effective_date
    return Decision(Kind.CHANGED, values, tuple(periods))


def person_changes(name: str, psn_no: str | None, listed_name: str, listed_psn_no: str | None) -> dict:
    """The person's fields a list row changes: the name, and the person number when the row
    gives one (an empty one never clears it)."""
    if name != listed_name or (listed_psn_no and psn_no != listed_psn_no):
        return {"name": listed_name, "psn_no": listed_psn_no or psn_no}
    return {}

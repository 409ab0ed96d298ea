"""Service deadlines and the filing window of manual claims (DOMAIN.md §6), from plain values.

A contract's rules are data (`ClaimTerms`); this module only counts days. Working days come
from the editable calendar (`insurance_admin.core.workdays`): a due date counted through a year
without published holiday data is provisional and says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

from insurance_admin.core.workdays import Deadline, WorkCalendar

WORKING, CALENDAR = "working", "calendar"


@dataclass(frozen=True)
class DeadlineRule:
    days: int
    unit: str  # WORKING or CALENDAR
    kind: str  # "standard", "out_of_area" or "extended"

    def due(self, start: dt.date, calendar: WorkCalendar) -> Deadline:
        """The last day to pay, counting from the day documents became complete (day 0)."""
        if self.unit == WORKING:
            return calendar.add_working_days(start, self.days)
        return Deadline(start + dt.timedelta(days=self.days), False)


def applicable_rule(
    *, deadline: tuple[int | None, str], out_of_area: tuple[int | None, str], extended: tuple[int | None, str],
    out_of_area_places: list[str], place: str, is_extended: bool,
) -> DeadlineRule | None:
    """The rule a claim falls under: the out-of-area one for its listed places (extended to the
    verification deadline once a reason is recorded), the standard one otherwise; None when
    the contract sets no deadline."""
    if place in out_of_area_places and out_of_area[0] is not None:
        if is_extended and extended[0] is not None:
            return DeadlineRule(extended[0], extended[1], "extended")
        return DeadlineRule(out_of_area[0], out_of_area[1], "out_of_area")
    if deadline[0] is None:
        return None
    return DeadlineRule(deadline[0], deadline[1], "standard")


def days_left(due: dt.date, today: dt.date, unit: str, calendar: WorkCalendar) -> int:
    """Days from today to the due date in the rule's unit; negative once overdue."""
    if unit == WORKING:
        return calendar.working_days_between(today, due)
    return (due - today).days


def filing_deadline(period_end: dt.date, months: int) -> dt.date:
    """Last day to file: `months` after the insurance year ends (Zhenping: 2026 → 2027-12-31)."""
    return period_end + relativedelta(months=months)

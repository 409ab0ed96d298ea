"""Working-day functions for the tests: the Django layer passes a calendar-table-backed one;
here a weekday-only fake and one with the 2025 National Day arrangement hard-coded."""

from __future__ import annotations

import datetime as dt

# 2025 National Day + Mid-autumn: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 worked.
HOLIDAYS_2025 = frozenset(dt.date(2025, 10, day) for day in range(1, 9))
MAKEUP_WORKDAYS_2025 = frozenset({dt.date(2025, 9, 28), dt.date(2025, 10, 11)})


def _add(start: dt.date, n: int, is_workday) -> dt.date:
    """The n-th working day after `start` (start itself not counted)."""
    day, counted = start, 0
    while counted < n:
        day += dt.timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


def weekdays_only(start: dt.date, n: int) -> dt.date:
    return _add(start, n, lambda day: day.weekday() < 5)


def chinese_2025(start: dt.date, n: int) -> dt.date:
    def is_workday(day: dt.date) -> bool:
        if day in MAKEUP_WORKDAYS_2025:
            return True
        return day.weekday() < 5 and day not in HOLIDAYS_2025

    return _add(start, n, is_workday)

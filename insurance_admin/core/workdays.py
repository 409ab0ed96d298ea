"""Chinese working days: Monday–Friday, minus statutory holidays, plus make-up working days
(调休), from the calendar tables (seeded from chinesecalendar, editable in the admin when a new
State Council notice appears). Years without an arrangement on file count weekdays only and
the result says it is provisional."""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from .models import CalendarDay, CalendarYear

HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


@dataclass(frozen=True)
class Deadline:
    date: dt.date
    provisional: bool  # some day counted lies in a year whose holiday arrangement is not on file


@dataclass(frozen=True)
class WorkCalendar:
    exceptions: dict  # date -> is_workday
    published_years: frozenset

    def is_workday(self, day: dt.date) -> bool:
        exception = self.exceptions.get(day)
        return exception if exception is not None else day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> Deadline:
        """The `days`-th working day after `start` (start itself not counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day, counted, provisional = start, 0, False
        while counted < days:
            day += dt.timedelta(days=1)
            provisional |= day.year not in self.published_years
            if self.is_workday(day):
                counted += 1
        return Deadline(day, provisional)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative when end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for n in range(1, (end - start).days + 1) if self.is_workday(start + dt.timedelta(days=n)))


def load_calendar() -> WorkCalendar:
    return _cached(
        tuple(CalendarDay.objects.values_list("date", "is_workday").order_by("date")),
        tuple(CalendarYear.objects.filter(published=True).values_list("year", flat=True).order_by("year")),
    )


@lru_cache(maxsize=4)
def _cached(days: tuple, years: tuple) -> WorkCalendar:
    return WorkCalendar(dict(days), frozenset(years))


def exceptions_from_chinesecalendar(year: int) -> list[tuple[dt.date, bool, str]]:
    """(date, is_workday, Chinese name) for every day of `year` that breaks the weekday rule."""
    # its holiday tables are read only when the calendar is seeded
    import chinese_calendar

    rows = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        on_holiday, holiday = chinese_calendar.get_holiday_detail(day)
        workday = not on_holiday
        if workday != (day.weekday() < 5):
            name = HOLIDAY_NAMES.get(getattr(holiday, "value", holiday), str(holiday or ""))
            rows.append((day, workday, f"{name}调休上班" if workday else name))
        day += dt.timedelta(days=1)
    return rows


def seed_from_chinesecalendar(calendar_day_model, calendar_year_model) -> int:
    """Fill the tables for every year chinesecalendar knows; keep rows an administrator entered."""
    # its holiday tables are read only when the calendar is seeded
    import chinese_calendar
    from chinese_calendar.constants import holidays

    version = getattr(chinese_calendar, "__version__", "")
    first, last = min(holidays).year, max(holidays).year
    created = 0
    for year in range(first, last + 1):
        if calendar_year_model.objects.filter(year=year, published=True).exists():
            continue
        for day, workday, name in exceptions_from_chinesecalendar(year):
            _, was_created = calendar_day_model.objects.get_or_create(date=day, defaults={"is_workday": workday, "name": name})
            created += was_created
        calendar_year_model.objects.update_or_create(
            year=year, defaults={"published": True, "source": f"chinesecalendar {version}".strip()}
        )
    return created

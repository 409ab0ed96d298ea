import datetime as dt

import pytest
from django.urls import reverse

from insurance_admin.core.models import CalendarDay, CalendarYear
from insurance_admin.core.views import calendar_status
from insurance_admin.core.workdays import load_calendar

pytestmark = pytest.mark.django_db
D = dt.date


def test_2025_national_day_and_its_make_up_days():
    cal = load_calendar()
    assert [cal.is_workday(D(2025, 10, d)) for d in range(1, 9)] == [False] * 8
    assert cal.is_workday(D(2025, 9, 28)) and cal.is_workday(D(2025, 10, 11))  # Sunday and Saturday worked
    assert CalendarDay.objects.get(date=D(2025, 9, 28)).name == "国庆节调休上班"
    # documents complete on Friday 2025-09-26: 10 working days → 09-28 (Sun), 29, 30, 10-09, 10, 11 (Sat), 13 … 10-16
    assert cal.add_working_days(D(2025, 9, 26), 10).date == D(2025, 10, 16)
    assert cal.add_working_days(D(2025, 9, 26), 15).date == D(2025, 10, 23)
    assert cal.working_days_between(D(2025, 9, 26), D(2025, 10, 16)) == 10


def test_known_2026_answers():
    cal = load_calendar()
    assert cal.is_workday(D(2026, 2, 14)) and cal.is_workday(D(2026, 10, 10))
    assert not cal.is_workday(D(2026, 10, 5))
    deadline = cal.add_working_days(D(2026, 9, 28), 5)
    assert deadline.date == D(2026, 10, 10) and not deadline.provisional


def test_a_year_without_published_data_is_provisional_weekdays_only():
    cal = load_calendar()
    deadline = cal.add_working_days(D(2026, 12, 28), 5)
    assert deadline == type(deadline)(D(2027, 1, 4), True)
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_an_administrator_entry_changes_deadlines_at_once():
    CalendarYear.objects.create(year=2027, published=True, source="国办发明电〔2026〕X号")
    CalendarDay.objects.create(date=D(2027, 1, 1), is_workday=False, name="元旦")
    CalendarDay.objects.create(date=D(2027, 1, 4), is_workday=False, name="元旦")
    deadline = load_calendar().add_working_days(D(2026, 12, 28), 5)
    # 12-29, 12-30, 12-31, (01-01 holiday, weekend, 01-04 holiday) 01-05, 01-06
    assert deadline.date == D(2027, 1, 6) and not deadline.provisional


def test_system_status_warns_when_next_years_arrangement_is_missing(client, supervisor):
    assert calendar_status(D(2026, 11, 22))["next_year_missing"] is True
    assert calendar_status(D(2026, 6, 1))["next_year_missing"] is False
    client.force_login(supervisor)
    body = client.get(reverse("system_status")).content.decode()
    assert "节假日安排已录入至2026年" in body

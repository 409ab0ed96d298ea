from django.contrib import admin

from .admin_scoping import ScopedAdmin
from .models import CalendarDay, CalendarYear


@admin.register(CalendarYear)
class CalendarYearAdmin(ScopedAdmin):
    list_display = ["year", "published", "source"]


@admin.register(CalendarDay)
class CalendarDayAdmin(ScopedAdmin):
    """Entered from the State Council's notice each year (holidays and 调休 make-up days)."""

    list_display = ["date", "is_workday", "name"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"
    search_fields = ["name"]

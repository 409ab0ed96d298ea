from django.contrib import admin

from .admin_scoping import ReadOnlyScopedAdmin, ScopedAdmin
from .models import CalendarDay, CalendarYear, Deadline, Notification, TaskFailure


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


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyScopedAdmin):
    """Deadline records change only through `deadlines.deadline_track` / `deadline_meet` (the
    owning apps, in the transaction of their object): listed here, never edited."""

    list_display = ["due_date", "kind", "display_label", "contract", "area", "role", "state", "met_on", "consequence"]
    list_filter = ["kind", "state", "role", ("contract", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "due_date"
    search_fields = ["label"]
    list_select_related = ["contract", "area"]
    # the stored label may begin with the contract's internal code: shown without it
    exclude = ["content_type", "object_id", "label"]
    readonly_fields = ["display_label"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyScopedAdmin):
    """Inbox rows (reminders and escalations): each user's own; a superuser's, every inbox."""

    list_display = ["created_at", "recipient", "stage", "deadline", "read_at", "emailed_at"]
    list_filter = ["stage"]
    list_select_related = ["recipient", "deadline__contract"]  # a deadline names its contract
    raw_id_fields = ["deadline"]


@admin.register(TaskFailure)
class TaskFailureAdmin(ReadOnlyScopedAdmin):
    """Background tasks that raised (recorded by the Celery `task_failure` signal)."""

    list_display = ["failed_at", "task_name", "exception", "hostname"]
    search_fields = ["task_name", "exception"]

"""Non-trivial reads: the stored benefit plans for the engine, the supervisors' deadline board."""

import datetime as dt

from django.db.models import Count, F, Max, Q

from insurance_admin.core.models import CalendarDay
from insurance_admin.core.workdays import WorkCalendar, load_calendar
from programs.models import BenefitPlan

from .models import Claim


def engine_plans(codes: list[str] | None = None) -> dict:
    """{contract code: engine Plan} for the stored benefit plans (optionally only `codes`)."""
    qs = BenefitPlan.objects.select_related("contract")
    if codes is not None:
        qs = qs.filter(contract__code__in=codes)
    return {bp.contract.code: bp.engine_plan() for bp in qs}


def deadline_overview(user, today):
    """Open manual claims per area: how many, due within three working days, overdue, and
    without a deadline yet (documents incomplete). For the supervisors' deadline board."""
    soon = load_calendar().add_working_days(today, 3).date
    open_claims = Claim.objects.for_user(user).exclude(status__in=["paid", "rejected", "withdrawn"])
    rows = (
        open_claims.values("area__code", "area__name")
        .annotate(
            open=Count("id"),
            waiting_documents=Count("id", filter=Q(due_date__isnull=True)),
            due_soon=Count("id", filter=Q(due_date__gte=today, due_date__lte=soon)),
            overdue=Count("id", filter=Q(due_date__lt=today)),
        )
        .order_by("area__code")
    )
    return list(rows), soon


# --- work queues of the window (issue 23) -------------------------------------------------------
#
# Each queue is a filter on the user's claims (`for_user`: their areas) and an order. Definitions:
# - waiting_documents: REGISTERED (documents still missing, so no due date yet), oldest first;
# - due_soon: in the caseworker's hands (DOCUMENTS_COMPLETE, CALCULATED, RETURNED) with a due
#   date at most three working days ahead (overdue ones included), earliest due first — the
#   same horizon as the deadline board;
# - returned: RETURNED by a reviewer, longest waiting first (the time of the return);
# - ready_to_pay: APPROVED, not paid yet, earliest due first (no due date last), then approval;
# - submitted: SUBMITTED for review, oldest submission first.

QUEUE_ROWS = 50
CASEWORKER_HANDS = ("documents_complete", "calculated", "returned")


QUEUE_WORKING_DAYS = 3


def queue_horizon(today):
    """The last day counted as "due soon": three working days ahead, as the deadline board counts
    (`add_working_days`), from the calendar exceptions of the next 40 days only: one small query,
    for the navigation's counts on every page (no holiday run is 40 days long)."""
    window = CalendarDay.objects.filter(date__gt=today, date__lte=today + dt.timedelta(days=40))
    return WorkCalendar(dict(window.values_list("date", "is_workday")), frozenset()).add_working_days(
        today, QUEUE_WORKING_DAYS).date


def _queue_filters(soon) -> dict[str, Q]:
    return {
        "waiting_documents": Q(status="registered"),
        "due_soon": Q(status__in=CASEWORKER_HANDS, due_date__lte=soon),
        "returned": Q(status="returned"),
        "ready_to_pay": Q(status="approved"),
        "submitted": Q(status="submitted"),
    }


def claim_queue(user, name: str, today):
    """The claims of queue `name` for `user`, in the queue's order (a queryset; slice it)."""
    soon = queue_horizon(today) if name == "due_soon" else today
    qs = (Claim.objects.for_user(user).filter(_queue_filters(soon)[name])
          .select_related("contract", "person", "area"))
    if name == "waiting_documents":
        return qs.order_by("registered_at", "id")
    if name == "due_soon":
        return qs.order_by("due_date", "id")
    if name == "returned":
        qs = qs.annotate(returned_at=Max("status_changes__at", filter=Q(status_changes__to_status="returned")))
        return qs.order_by("returned_at", "id")
    if name == "ready_to_pay":
        return qs.order_by(F("due_date").asc(nulls_last=True), "approved_at", "id")
    if name == "submitted":
        qs = qs.annotate(submitted_at=Max("status_changes__at", filter=Q(status_changes__to_status="submitted")))
        return qs.order_by("submitted_at", "id")
    raise KeyError(name)


def claim_queue_counts(user, names, today) -> dict[str, int]:
    """{queue: number of claims} for `names`, in one aggregate query (none when `names` is empty)."""
    if not names:
        return {}
    filters = _queue_filters(queue_horizon(today) if "due_soon" in names else today)
    return Claim.objects.for_user(user).aggregate(**{name: Count("id", filter=filters[name]) for name in names})

"""Complaint KPIs (for the dashboard and measured assessment items): each takes
(contract, area codes or None, start, end) and counts complaints received in [start, end]."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from insurance_admin.core.money import CENT
from insurance_admin.core.workdays import load_calendar
from insurance_admin.kpis.registry import register
from insurance_admin.staffing.kpis import area_ids_of

from .models import Complaint


def received(contract, areas, start, end):
    qs = Complaint.objects.filter(contract=contract, received_on__gte=start, received_on__lte=end)
    ids = area_ids_of(areas)
    return qs if ids is None else qs.filter(area_id__in=ids)


@register("complaint_count", _("Complaints received"), "count")
def complaint_count(contract, areas, start, end) -> Decimal:
    return Decimal(received(contract, areas, start, end).count())


@register("complaint_on_time_rate", _("Complaints answered on time"), "%")
def complaint_on_time_rate(contract, areas, start, end) -> Decimal | None:
    """Share (percent) of the complaints whose answer was due by `end`, or that were answered by
    then, answered on or before their due date; an unanswered overdue complaint is late. None
    when no complaint counts yet."""
    rows = received(contract, areas, start, end).filter(Q(answer_due__lte=end) | Q(answered_on__lte=end))
    total = rows.count()
    if not total:
        return None
    on_time = rows.filter(answered_on__lte=end).filter(answered_on__lte=F("answer_due")).count()
    return (Decimal(100) * on_time / total).quantize(CENT, rounding=ROUND_HALF_UP)


@register("complaint_answer_days_median", _("Median answer time of complaints (working days)"), "days")
def complaint_answer_days_median(contract, areas, start, end) -> Decimal | None:
    """Median working days from receipt to answer of the complaints answered by `end`."""
    calendar = load_calendar()
    days = sorted(calendar.working_days_between(r, a) for r, a in received(contract, areas, start, end)
                  .filter(answered_on__isnull=False, answered_on__lte=end).values_list("received_on", "answered_on"))
    if not days:
        return None
    mid = len(days) // 2
    if len(days) % 2:
        return Decimal(days[mid])
    return (Decimal(days[mid - 1] + days[mid]) / 2).quantize(Decimal("0.1"))

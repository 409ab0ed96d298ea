"""KPIs of manual claims (非即时结算): volumes by month, service-time compliance and turnaround in
working days, payouts by liability, hospital level, place and category, top hospitals.

Every function reads one contract, the areas given (codes with their counties; None: all) and
an inclusive period, with SQL aggregates only. Turnaround percentiles are computed from a
histogram the database groups by (documents complete, paid on) date pair: the loop runs over
distinct date pairs, never over claims, and converts each pair to working days through the
editable holiday calendar (`insurance_admin.core.workdays`).

Dating, the same as the finance figures (`finance.selectors.claims_paid`): received by the
registration time, approved by the approval time (approved and paid claims), paid by the
payment date, payouts by the approval time (the approved amount is fixed at approval).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncMonth
from django.utils.translation import gettext_lazy as _

from claims.models import Calculation, Claim, Settlement
from insurance_admin.core.workdays import WorkCalendar, load_calendar
from programs.models import Contract, Enrollment

from .registry import register
from .scope import in_period, pct, scoped

S = Claim.Status
APPROVED = [S.APPROVED, S.PAID]
NIL = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def claims_of(contract: Contract, areas) -> Claim.objects:
    return scoped(Claim.objects.filter(contract=contract), areas)


def received(contract, areas, start, end):
    return claims_of(contract, areas).filter(in_period("registered_at__date", start, end))


def approved(contract, areas, start, end):
    return claims_of(contract, areas).filter(in_period("approved_at__date", start, end), status__in=APPROVED)


def paid(contract, areas, start, end):
    return claims_of(contract, areas).filter(in_period("paid_on", start, end), status=S.PAID)


# --- by month ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRow:
    month: dt.date  # first day of the month
    received: int
    approved: int
    approved_amount: Decimal
    paid: int
    paid_amount: Decimal


def _month(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def claims_by_month(contract: Contract, areas, start: dt.date, end: dt.date) -> list[MonthRow]:
    """Claims received, approved (count, amount) and paid (count, amount) per calendar month of
    the period, every month listed (zeros included)."""
    rows: dict[dt.date, dict] = {}
    for key, qs, date_field, amount in (
        ("received", received(contract, areas, start, end), "registered_at", None),
        ("approved", approved(contract, areas, start, end), "approved_at", "payable"),
        ("paid", paid(contract, areas, start, end), "paid_on", "payable"),
    ):
        aggregates = {"n": Count("id")}
        if amount:
            aggregates["amount"] = Sum(amount)
        for row in qs.annotate(m=TruncMonth(date_field)).order_by().values("m").annotate(**aggregates):
            slot = rows.setdefault(_month(row["m"]), {})
            slot[key] = row["n"]
            if amount:
                slot[f"{key}_amount"] = row["amount"] or NIL
    out = []
    month = start.replace(day=1)
    while month <= end:
        r = rows.get(month, {})
        out.append(MonthRow(month, r.get("received", 0), r.get("approved", 0), r.get("approved_amount", NIL),
                            r.get("paid", 0), r.get("paid_amount", NIL)))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


# --- service times -----------------------------------------------------------------------

#: The one on-time rule (DOMAIN.md §6: "pay within N working days"), read by the dashboard
#: (`service_times`, the rollup) and by assessments (KPI "claims.paid_within_limit_rate"). A
#: claim's limit is its `due_date`: the contract's working days (`claims.ClaimTerms`) counted
#: from complete documents over the holiday calendar (`insurance_admin.core.workdays`, with its
#: make-up working days) by `claims.deadlines`. Among the claims *paid* in the period, those with
#: a limit are counted; paid on or before the due date (the last day included) is on time. A
#: claim still unpaid past its due date is not in the rate: it is an overdue item now (the
#: dashboard's overdue panel, the deadline list) until it is paid, and then counts as late.
WITH_LIMIT = Q(due_date__isnull=False)
PAID_WITHIN_LIMIT = WITH_LIMIT & Q(paid_on__lte=F("due_date"))


@dataclass(frozen=True)
class ServiceTimes:
    """Claims paid in the period. `with_limit`: those with a due date (the contract's limit,
    counted from the day documents became complete); `on_time`: paid on or before it (paid on
    the last day counts as on time). Turnaround: working days from documents complete (day 0)
    to payment, nearest-rank percentiles."""

    paid: int
    with_limit: int
    on_time: int
    late: int
    on_time_rate: Decimal | None  # percent, 2 dp
    median_days: int | None
    p90_days: int | None
    histogram: dict[int, int] = field(default_factory=dict)  # working days -> claims


def workday_index(calendar: WorkCalendar, first: dt.date, last: dt.date) -> dict[dt.date, int]:
    """date -> number of working days after `first` up to and including it (first -> 0), so
    that working_days_between(a, b) == index[b] - index[a]."""
    index, count, day = {}, 0, first
    while day <= last:
        if day != first and calendar.is_workday(day):
            count += 1
        index[day] = count
        day += dt.timedelta(days=1)
    return index


def nearest_rank(histogram: dict[int, int], p: Decimal) -> int | None:
    """The smallest value v such that at least p of the observations are <= v."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(Decimal(total) * p))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None  # pragma: no cover - rank <= total


def turnaround_histogram(qs, calendar: WorkCalendar | None = None) -> dict[int, int]:
    pairs = list(
        qs.filter(documents_complete_on__isnull=False, paid_on__isnull=False).order_by()
        .values_list("documents_complete_on", "paid_on").annotate(n=Count("id"))
    )
    if not pairs:
        return {}
    calendar = calendar or load_calendar()
    first = min(min(a, b) for a, b, _n in pairs)
    last = max(max(a, b) for a, b, _n in pairs)
    index = workday_index(calendar, first, last)
    histogram: dict[int, int] = {}
    for complete_on, paid_on, n in pairs:
        days = index[paid_on] - index[complete_on]
        histogram[days] = histogram.get(days, 0) + n
    return histogram


def service_times(contract: Contract, areas, start: dt.date, end: dt.date, *, calendar: WorkCalendar | None = None) -> ServiceTimes:
    qs = paid(contract, areas, start, end)
    counts = qs.aggregate(
        paid=Count("id"),
        with_limit=Count("id", filter=WITH_LIMIT),
        on_time=Count("id", filter=PAID_WITHIN_LIMIT),
    )
    histogram = turnaround_histogram(qs, calendar)
    return ServiceTimes(
        paid=counts["paid"], with_limit=counts["with_limit"], on_time=counts["on_time"],
        late=counts["with_limit"] - counts["on_time"], on_time_rate=pct(counts["on_time"], counts["with_limit"]),
        median_days=nearest_rank(histogram, Decimal("0.5")), p90_days=nearest_rank(histogram, Decimal("0.9")),
        histogram=histogram,
    )


# --- payouts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Slice:
    key: str  # the code the claim list filters on ("" for none)
    label: str
    claims: int
    amount: Decimal


@dataclass(frozen=True)
class Payouts:
    claims: int
    amount: Decimal
    by_liability: list[Slice]
    by_hospital_level: list[Slice]
    by_place: list[Slice]
    by_category: list[Slice]
    top_hospitals: list[Slice]


def _labels():
    from claims.presentation import CODE_LABELS, HOSP_LEVEL_LABELS

    return CODE_LABELS, HOSP_LEVEL_LABELS


def _liabilities(contract: Contract) -> list[tuple[str, str]]:
    from claims.services import plan_of

    try:
        return [(li.code, li.name) for li in plan_of(contract).engine_plan().liabilities]
    except Exception:  # noqa: BLE001 - a contract without a stored plan has no liabilities to show
        return []


def payouts(contract: Contract, areas, start: dt.date, end: dt.date, *, top: int = 10) -> Payouts:
    code_labels, level_labels = _labels()
    qs = approved(contract, areas, start, end).order_by()
    total = qs.aggregate(n=Count("id"), amount=Sum("payable"))

    liabilities = _liabilities(contract)
    by_liability = []
    if liabilities:
        calcs = Calculation.objects.filter(claim__in=qs.values("pk"))
        sums = calcs.aggregate(**{
            f"a{i}": Sum(Cast(KeyTextTransform(code, "by_liability"), MONEY)) for i, (code, _name) in enumerate(liabilities)
        }, **{f"n{i}": Count("claim", distinct=True, filter=Q(by_liability__has_key=code))
              for i, (code, _name) in enumerate(liabilities)})
        by_liability = [Slice(code, name, sums[f"n{i}"], (sums[f"a{i}"] or NIL).quantize(NIL))
                        for i, (code, name) in enumerate(liabilities)]

    level = Subquery(Settlement.objects.filter(claim=OuterRef("pk")).order_by("id").values("hosp_lv")[:1])
    by_level = [
        Slice(r["lv"] or "", level_labels.get(r["lv"] or "", str(_("not recorded"))), r["n"], r["amount"] or NIL)
        for r in qs.annotate(lv=level).values("lv").annotate(n=Count("id"), amount=Sum("payable")).order_by("lv")
    ]
    by_place = [
        Slice(r["place"], code_labels.get(r["place"], r["place"]) or str(_("not recorded")), r["n"], r["amount"] or NIL)
        for r in qs.values("place").annotate(n=Count("id"), amount=Sum("payable")).order_by("place")
    ]
    category = Subquery(Enrollment.objects.filter(person=OuterRef("person"), contract=OuterRef("contract")).values("category")[:1])
    by_category = [
        Slice(r["cat"] or "", code_labels.get(r["cat"] or "", str(_("not recorded"))), r["n"], r["amount"] or NIL)
        for r in qs.annotate(cat=category).values("cat").annotate(n=Count("id"), amount=Sum("payable")).order_by("cat")
    ]
    hospitals = [
        Slice(r["fixmedins_code"], r["fixmedins_name"], r["n"], r["amount"] or NIL)
        for r in qs.values("fixmedins_code", "fixmedins_name").annotate(n=Count("id"), amount=Sum("payable"))
        .order_by("-amount", "fixmedins_name")[:top]
    ]
    return Payouts(total["n"], total["amount"] or NIL, by_liability, by_level, by_place, by_category, hospitals)


# --- registered scalars ------------------------------------------------------------------


@register("claims.received", _("Claims received"), "count")
def kpi_received(contract, areas, start, end) -> Decimal:
    return Decimal(received(contract, areas, start, end).count())


@register("claims.approved", _("Claims approved"), "count")
def kpi_approved(contract, areas, start, end) -> Decimal:
    return Decimal(approved(contract, areas, start, end).count())


@register("claims.paid", _("Claims paid"), "count")
def kpi_paid(contract, areas, start, end) -> Decimal:
    return Decimal(paid(contract, areas, start, end).count())


@register("claims.approved_amount", _("Amount approved"), "yuan")
def kpi_approved_amount(contract, areas, start, end) -> Decimal:
    return approved(contract, areas, start, end).aggregate(s=Sum("payable"))["s"] or NIL


@register("claims.paid_within_limit_rate", _("Manual claims paid on time"), "%")
def kpi_paid_within_limit(contract, areas, start, end) -> Decimal | None:
    """Percentage (0–100, two decimals, half-up) of the claims paid in [start, end] with a limit
    that were paid within it (`PAID_WITHIN_LIMIT`); None when none with a limit was paid. The
    dashboard's "paid within the time limit" and the assessment's 理赔时限 item read this one
    figure (the key "claims.on_time_rate" of an earlier separate definition resolves here)."""
    counts = paid(contract, areas, start, end).aggregate(
        with_limit=Count("id", filter=WITH_LIMIT), on_time=Count("id", filter=PAID_WITHIN_LIMIT))
    return pct(counts["on_time"], counts["with_limit"])


@register("claims.turnaround_median", _("Median turnaround (working days)"), "days")
def kpi_turnaround_median(contract, areas, start, end) -> Decimal | None:
    value = service_times(contract, areas, start, end).median_days
    return None if value is None else Decimal(value)


@register("claims.turnaround_p90", _("90th-percentile turnaround (working days)"), "days")
def kpi_turnaround_p90(contract, areas, start, end) -> Decimal | None:
    value = service_times(contract, areas, start, end).p90_days
    return None if value is None else Decimal(value)

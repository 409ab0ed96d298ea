"""The claim KPIs from pre-aggregated rows (`models.ClaimRollup`): `rollup_refresh` rebuilds a
contract's rows from the same queries the live KPIs run (grouped by area and day, the month
rows summed from the day rows), and the readers below return the live functions' dataclasses
for any period — whole months from the month rows, the days of partial months from the day
rows (`grain`) — so the dashboard renders either source with one template. The refresh also
recounts the contract's open deadlines (`insurance_admin.core.deadlines`), whose counts the
dashboard's "overdue now" figures read (`overdue_by_kind`)."""

from __future__ import annotations

import calendar
import datetime as dt
import time
from decimal import Decimal

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, Count, DateField, F, OuterRef, Q, Subquery, Sum, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Abs, Cast, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.models import Calculation, Settlement, SettlementCheck
from insurance_admin.core.deadlines import open_deadline_counts_rebuild
from insurance_admin.core.models import Deadline, OpenDeadlineCount
from insurance_admin.core.workdays import load_calendar
from programs.models import Contract, Enrollment

from . import claims as live
from . import deadlines as live_deadlines
from . import funds as live_funds
from . import settlements as live_settlements
from .models import ClaimRollup, RollupRun
from .scope import area_ids, pct, scoped

NIL = Decimal("0.00")


def _day(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def covers(contract: Contract, start: dt.date, end: dt.date) -> RollupRun | None:
    """The contract's last run (any period is a sum of month and day rows), else None."""
    return RollupRun.objects.filter(contract=contract).first()


# --- refresh -----------------------------------------------------------------------------

SUMMED = ("count", "count2", "count3", "amount", "amount2", "amount3", "amount4")


def _day_cells(contract: Contract) -> dict[tuple, dict]:
    """Every figure per (area, day, kind, key, label): the live KPIs' queries grouped by area and
    day (the day in Asia/Shanghai, as the live period filters read it)."""
    claims = live.claims_of(contract, None).order_by()
    cells: dict[tuple, dict] = {}

    def add(kind, area_id, day, key="", label="", **values):
        cell = cells.setdefault((area_id, _day(day), kind, key or "", (label or "")[:200]), dict.fromkeys(SUMMED, 0))
        for name, value in values.items():
            cell[name] += value or 0

    for r in claims.values("area_id", d=TruncDate("registered_at")).annotate(n=Count("id")):
        add("received", r["area_id"], r["d"], count=r["n"])
    approved = claims.filter(status__in=live.APPROVED, approved_at__isnull=False).annotate(d=TruncDate("approved_at"))
    for r in approved.values("area_id", "d").annotate(n=Count("id"), a=Sum("payable")):
        add("approved", r["area_id"], r["d"], count=r["n"], amount=r["a"] or NIL)
    paid = claims.filter(status=live.S.PAID, paid_on__isnull=False)
    for r in paid.values("area_id", "paid_on").annotate(
        n=Count("id"), limited=Count("id", filter=live.WITH_LIMIT),
        on_time=Count("id", filter=live.PAID_WITHIN_LIMIT), a=Sum("payable"),
    ):
        add("paid", r["area_id"], r["paid_on"], count=r["n"], count2=r["limited"], count3=r["on_time"], amount=r["a"] or NIL)

    pairs = list(paid.filter(documents_complete_on__isnull=False).values_list("area_id", "documents_complete_on", "paid_on")
                 .annotate(n=Count("id")))
    if pairs:
        first = min(min(p[1], p[2]) for p in pairs)
        last = max(max(p[1], p[2]) for p in pairs)
        index = live.workday_index(load_calendar(), first, last)
        for area_id, complete_on, paid_on, n in pairs:
            add("turnaround", area_id, paid_on, key=str(index[paid_on] - index[complete_on]), count=n)

    liabilities = live._liabilities(contract)
    if liabilities:
        calcs = Calculation.objects.filter(claim__in=approved.values("pk")).annotate(d=TruncDate("claim__approved_at"))
        for r in calcs.values("claim__area_id", "d").annotate(**{
            f"a{i}": Sum(Cast(KeyTextTransform(code, "by_liability"), live.MONEY)) for i, (code, _n) in enumerate(liabilities)
        }, **{f"n{i}": Count("claim", distinct=True, filter=Q(by_liability__has_key=code)) for i, (code, _n) in enumerate(liabilities)}):
            for i, (code, name) in enumerate(liabilities):
                if r[f"n{i}"] or r[f"a{i}"]:
                    add("liability", r["claim__area_id"], r["d"], key=code, label=name, count=r[f"n{i}"],
                        amount=(r[f"a{i}"] or NIL).quantize(NIL))

    level = Subquery(Settlement.objects.filter(claim=OuterRef("pk")).order_by("id").values("hosp_lv")[:1])
    category = Subquery(Enrollment.objects.filter(person=OuterRef("person"), contract=OuterRef("contract")).values("category")[:1])
    for kind, qs in (
        ("level", approved.annotate(k=level)), ("place", approved.annotate(k=F("place"))), ("category", approved.annotate(k=category)),
    ):
        for r in qs.values("area_id", "d", "k").annotate(n=Count("id"), a=Sum("payable")):
            add(kind, r["area_id"], r["d"], key=r["k"], count=r["n"], amount=r["a"] or NIL)
    for r in approved.values("area_id", "d", "fixmedins_code", "fixmedins_name").annotate(n=Count("id"), a=Sum("payable")):
        add("hospital", r["area_id"], r["d"], key=r["fixmedins_code"], label=r["fixmedins_name"], count=r["n"], amount=r["a"] or NIL)

    differing = ~Q(difference=0) & Q(difference__isnull=False)
    checks = SettlementCheck.objects.filter(contract=contract).order_by()
    for r in checks.values("settlement__area_id", "settlement__enddate", "settlement__fixmedins_code",
                           "settlement__fixmedins_name").annotate(
        n=Count("pk"), d=Count("pk", filter=differing), p=Sum("platform_payable"), e=Sum("engine_payable"),
        diff=Sum("difference"), abs=Sum(Abs("difference")),
    ):
        add("difference", r["settlement__area_id"], r["settlement__enddate"], key=r["settlement__fixmedins_code"],
            label=r["settlement__fixmedins_name"], count=r["n"], count2=r["d"], amount=r["p"] or NIL, amount2=r["e"] or NIL,
            amount3=r["diff"] or NIL, amount4=r["abs"] or NIL)
    return cells


def _rows(contract: Contract) -> list[ClaimRollup]:
    """The day rows, and the month rows summed from them; each also summed over the region's
    areas (the region and its counties, as `scoped` reads the region's code) without an area."""
    days = _day_cells(contract)
    region_areas = set(area_ids([contract.program.region.code]))
    for (area_id, day, kind, key, label), values in list(days.items()):
        if area_id in region_areas:
            cell = days.setdefault((None, day, kind, key, label), dict.fromkeys(SUMMED, 0))
            for name in SUMMED:
                cell[name] += values[name]
    months: dict[tuple, dict] = {}
    for (area_id, day, kind, key, label), values in days.items():
        cell = months.setdefault((area_id, day.replace(day=1), kind, key, label), dict.fromkeys(SUMMED, 0))
        for name in SUMMED:
            cell[name] += values[name]
    return [
        *(ClaimRollup(contract=contract, area_id=area_id, month=day.replace(day=1), day=day, kind=kind, key=key, label=label,
                      **values) for (area_id, day, kind, key, label), values in days.items()),
        *(ClaimRollup(contract=contract, area_id=area_id, month=month, kind=kind, key=key, label=label, **values)
          for (area_id, month, kind, key, label), values in months.items()),
    ]


def rollup_refresh(contract: Contract) -> RollupRun:
    """Rebuild the contract's rows in one transaction (readers see the old rows or the new),
    then compute the fund figures of the contract year for the whole contract and each county
    book into the cache, keyed by this run (the finance selector sums a million claims)."""
    started = time.perf_counter()
    rows = _rows(contract)
    with transaction.atomic():
        ClaimRollup.objects.filter(contract=contract).delete()
        ClaimRollup.objects.bulk_create(rows, batch_size=5000)
        open_deadline_counts_rebuild(contract_id=contract.pk)
        run, _created = RollupRun.objects.update_or_create(contract=contract, defaults={
            "refreshed_at": timezone.now(), "rows": len(rows), "seconds": Decimal(f"{time.perf_counter() - started:.3f}")})
    if connection.vendor == "postgresql":  # the planner's statistics of the replaced rows (read by every page)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {ClaimRollup._meta.db_table}, {OpenDeadlineCount._meta.db_table}")
    from finance.selectors import area_books

    region = contract.program.region
    for areas in [[region.code], *([a.code] for a in area_books(contract) if a != region)]:
        fund_figures(contract, areas, contract.period_start, contract.period_end, run=run)
    return run


FUND_CACHE_SECONDS = 24 * 3600


def _fund_key(contract, areas, start, end, run) -> str:
    return f"kpis:funds:{contract.pk}:{','.join(sorted(areas or []))}:{start}:{end}:{run.refreshed_at.timestamp()}"


def fund_figures(contract, areas, start, end, *, run: RollupRun):
    """The fund figures as of the run: computed once per run (by the refresh for the contract
    year's books), then read from the cache until the next run."""
    key = _fund_key(contract, areas, start, end, run)
    figures = cache.get(key)
    if figures is None:
        figures = live_funds.fund_figures(contract, areas, start, end)
        cache.set(key, figures, FUND_CACHE_SECONDS)
    return figures


def rollup_refresh_all() -> int:
    """Every contract whose year has claims or settlements (beat)."""
    done = 0
    for contract in Contract.objects.order_by("id"):
        rollup_refresh(contract)
        done += 1
    return done


# --- readers -----------------------------------------------------------------------------


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def grain(start: dt.date, end: dt.date) -> Q:
    """The rows that sum to [start, end]: the month rows of its whole months, the day rows of
    the days before the first and after the last whole month."""
    first_whole = start if start.day == 1 else _next_month(start)
    after_whole = _next_month(end) if end.day == calendar.monthrange(end.year, end.month)[1] else end.replace(day=1)
    if first_whole >= after_whole:  # no whole month: the days
        return Q(day__gte=start, day__lte=end)
    q = Q(day__isnull=True, month__gte=first_whole, month__lt=after_whole)
    if start < first_whole:
        q |= Q(day__gte=start, day__lt=first_whole)
    if end >= after_whole:
        q |= Q(day__gte=after_whole, day__lte=end)
    return q


#: kinds read per month (the table by month); every other kind is read summed over the period
MONTHLY = ("received", "approved", "paid")


class Figures:
    """Every claim figure of one selection from ONE query over the rows (grouped by kind, key,
    label and, for the monthly kinds, month: a few hundred groups), then the live functions'
    dataclasses built from them."""

    def __init__(self, contract: Contract, areas, start: dt.date, end: dt.date):
        self.contract, self.start, self.end = contract, start, end
        qs = ClaimRollup.objects.filter(grain(start, end), contract=contract).order_by()
        if areas is not None and list(areas) == [contract.program.region.code]:
            qs = qs.filter(area__isnull=True)  # the region's sums
        else:
            qs = scoped(qs.filter(area__isnull=False), areas)
        month = Case(When(kind__in=MONTHLY, then=F("month")), default=None, output_field=DateField())
        self.kinds: dict[str, list[dict]] = {}
        for r in qs.values("kind", "key", "label", m=month).annotate(
            n=Sum("count"), n2=Sum("count2"), n3=Sum("count3"), a=Sum("amount"), a2=Sum("amount2"), a3=Sum("amount3"),
            a4=Sum("amount4"),
        ):
            for name in ("a", "a2", "a3", "a4"):
                r[name] = r[name] or NIL
            self.kinds.setdefault(r["kind"], []).append(r)

    def _sum(self, kind: str, *names: str) -> list:
        rows = self.kinds.get(kind, [])
        return [sum((r[n] for r in rows), NIL if n.startswith("a") else 0) for n in names]

    def _by_key(self, kind: str) -> dict[str, tuple[int, Decimal]]:
        out: dict[str, tuple[int, Decimal]] = {}
        for r in self.kinds.get(kind, []):
            n, a = out.get(r["key"], (0, NIL))
            out[r["key"]] = (n + r["n"], a + r["a"])
        return out

    def claims_by_month(self) -> list[live.MonthRow]:
        rows: dict[dt.date, dict] = {}
        for kind in MONTHLY:
            for r in self.kinds.get(kind, []):
                slot = rows.setdefault(_day(r["m"]), {})
                slot[kind], slot[f"{kind}_amount"] = r["n"], r["a"]
        out, month = [], self.start.replace(day=1)
        while month <= self.end:
            r = rows.get(month, {})
            out.append(live.MonthRow(month, r.get("received", 0), r.get("approved", 0), r.get("approved_amount", NIL),
                                     r.get("paid", 0), r.get("paid_amount", NIL)))
            month = _next_month(month)
        return out

    def service_times(self) -> live.ServiceTimes:
        paid, limited, on_time = self._sum("paid", "n", "n2", "n3")
        histogram = {int(key): n for key, (n, _a) in self._by_key("turnaround").items()}
        return live.ServiceTimes(
            paid=paid, with_limit=limited, on_time=on_time, late=limited - on_time, on_time_rate=pct(on_time, limited),
            median_days=live.nearest_rank(histogram, Decimal("0.5")), p90_days=live.nearest_rank(histogram, Decimal("0.9")),
            histogram=histogram,
        )

    def payouts(self, *, top: int = 10) -> live.Payouts:
        code_labels, level_labels = live._labels()
        claims, amount = self._sum("approved", "n", "a")
        liability = self._by_key("liability")
        by_liability = [live.Slice(code, name, *liability.get(code, (0, NIL))) for code, name in live._liabilities(self.contract)]
        not_recorded = _("not recorded")
        by_level = [live.Slice(k, level_labels.get(k, not_recorded), n, a) for k, (n, a) in sorted(self._by_key("level").items())]
        by_place = [live.Slice(k, code_labels.get(k, k) or not_recorded, n, a)
                    for k, (n, a) in sorted(self._by_key("place").items())]
        by_category = [live.Slice(k, code_labels.get(k, not_recorded), n, a)
                       for k, (n, a) in sorted(self._by_key("category").items())]
        # the live order: amount descending, then the name (the databases compare code points)
        hospitals = sorted(self.kinds.get("hospital", []), key=lambda r: (-r["a"], r["label"]))[:top]
        return live.Payouts(claims, amount, by_liability, by_level, by_place, by_category,
                            [live.Slice(r["key"], r["label"], r["n"], r["a"]) for r in hospitals])

    def platform_engine_differences(self, *, top: int = 10) -> live_settlements.Differences:
        n, d, p, e, diff, absolute = self._sum("difference", "n", "n2", "a", "a2", "a3", "a4")
        hospitals = sorted((r for r in self.kinds.get("difference", []) if r["n2"] > 0), key=lambda r: (-r["a4"], r["label"]))
        return live_settlements.Differences(n, d, p, e, diff, absolute, [
            live_settlements.HospitalDifference(h["key"], h["label"], h["n"], h["n2"], h["a3"], h["a4"]) for h in hospitals[:top]])


def claims_by_month(contract, areas, start, end) -> list[live.MonthRow]:
    return Figures(contract, areas, start, end).claims_by_month()


def service_times(contract, areas, start, end) -> live.ServiceTimes:
    return Figures(contract, areas, start, end).service_times()


def payouts(contract, areas, start, end, *, top: int = 10) -> live.Payouts:
    return Figures(contract, areas, start, end).payouts(top=top)


def platform_engine_differences(contract, areas, start, end, *, top: int = 10) -> live_settlements.Differences:
    return Figures(contract, areas, start, end).platform_engine_differences(top=top)


def _overdue_cells(contract, areas, today: dt.date) -> list[tuple[str, dt.date, int]]:
    """(kind, due date, open deadlines) of the scope due before today, from the counts."""
    cells = (scoped(OpenDeadlineCount.objects.filter(contract=contract, due_date__lt=today), areas).order_by()
             .values_list("kind", "due_date").annotate(n=Sum("count")))
    return [(kind, due_date, n) for kind, due_date, n in cells if n > 0]


def _by_kind(cells) -> list[live_deadlines.OverdueKind]:
    labels = dict(Deadline.Kind.choices)
    kinds: dict[str, list] = {}
    for kind, due_date, n in cells:
        slot = kinds.setdefault(kind, [0, due_date])
        slot[0] += n
        slot[1] = min(slot[1], due_date)
    return [live_deadlines.OverdueKind(kind, str(labels.get(kind, kind)), n, oldest)
            for kind, (n, oldest) in sorted(kinds.items())]


def overdue_by_kind(contract, areas, today: dt.date) -> list[live_deadlines.OverdueKind]:
    """`deadlines.overdue_by_kind` from the open-deadline counts (kept up to date by every
    deadline write, recounted by the refresh): a few hundred (area, kind, due date) rows."""
    return _by_kind(_overdue_cells(contract, areas, today))


def overdue_now(contract, areas, today: dt.date, *, items: int = 20) -> tuple[list[live_deadlines.OverdueKind], list]:
    """The overdue counts by kind (as `overdue_by_kind`) and the `items` oldest overdue deadlines
    (due date, id). The counts say by which due date the oldest `items` fall due, so the
    deadlines are read up to that day only, not through every open deadline of the contract;
    should the counts lag a bulk load, the deadlines are read without that bound."""
    cells = _overdue_cells(contract, areas, today)
    per_day: dict[dt.date, int] = {}
    for _kind, due_date, n in cells:
        per_day[due_date] = per_day.get(due_date, 0) + n
    if not per_day:
        return [], []
    cutoff, seen = max(per_day), 0
    for due_date in sorted(per_day):
        seen += per_day[due_date]
        if seen >= items:
            cutoff = due_date
            break
    deadlines = live_deadlines.overdue(contract, areas, today).select_related("area").order_by("due_date", "id")
    oldest = list(deadlines.filter(due_date__lte=cutoff)[:items])
    if len(oldest) < min(items, seen):
        oldest = list(deadlines[:items])
    return _by_kind(cells), oldest


#: registered KPIs (by key) whose figure the rows hold, from a selection's `Figures`: the
#: dashboard's "other indicators" read these when the page is served from the rollup
#: (`test_rollup` compares them with the live KPIs)
KPIS = {
    "claims.paid_within_limit_rate": lambda figures: figures.service_times().on_time_rate,
}


def last_refreshed(contract) -> dt.datetime | None:
    return RollupRun.objects.filter(contract=contract).values_list("refreshed_at", flat=True).first()


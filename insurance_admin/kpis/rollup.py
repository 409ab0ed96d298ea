"""The claim KPIs from pre-aggregated rows (`models.ClaimRollup`): `rollup_refresh` rebuilds a
contract's rows from the same queries the live KPIs run (grouped by area and month as well),
and the readers below return the live functions' dataclasses for whole months, so the
dashboard renders either source with one template. Periods that do not start on the first
and end on the last day of a month are not served from here (`covers`)."""

from __future__ import annotations

import calendar
import datetime as dt
import time
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Abs, Cast, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.models import Calculation, Settlement, SettlementCheck
from insurance_admin.core.workdays import load_calendar
from programs.models import Contract, Enrollment

from . import claims as live
from . import funds as live_funds
from . import settlements as live_settlements
from .models import ClaimRollup, RollupRun
from .scope import pct, scoped

NIL = Decimal("0.00")


def _month(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def covers(contract: Contract, start: dt.date, end: dt.date) -> RollupRun | None:
    """The contract's last run when the period is made of whole months, else None."""
    last = calendar.monthrange(end.year, end.month)[1]
    if start.day != 1 or end.day != last:
        return None
    return RollupRun.objects.filter(contract=contract).first()


# --- refresh -----------------------------------------------------------------------------


def _rows(contract: Contract) -> list[ClaimRollup]:
    claims = live.claims_of(contract, None).order_by()
    out: list[ClaimRollup] = []

    def add(kind, area_id, month, key="", label="", **values):
        out.append(ClaimRollup(contract=contract, area_id=area_id, month=_month(month), kind=kind, key=key or "",
                               label=(label or "")[:200], **values))

    for r in claims.values("area_id", m=TruncMonth("registered_at")).annotate(n=Count("id")):
        add("received", r["area_id"], r["m"], count=r["n"])
    approved = claims.filter(status__in=live.APPROVED, approved_at__isnull=False).annotate(m=TruncMonth("approved_at"))
    for r in approved.values("area_id", "m").annotate(n=Count("id"), a=Sum("payable")):
        add("approved", r["area_id"], r["m"], count=r["n"], amount=r["a"] or NIL)
    paid = claims.filter(status=live.S.PAID, paid_on__isnull=False).annotate(m=TruncMonth("paid_on"))
    for r in paid.values("area_id", "m").annotate(
        n=Count("id"), limited=Count("id", filter=live.WITH_LIMIT),
        on_time=Count("id", filter=live.PAID_WITHIN_LIMIT), a=Sum("payable"),
    ):
        add("paid", r["area_id"], r["m"], count=r["n"], count2=r["limited"], count3=r["on_time"], amount=r["a"] or NIL)

    pairs = list(paid.filter(documents_complete_on__isnull=False).values_list("area_id", "m", "documents_complete_on", "paid_on")
                 .annotate(n=Count("id")))
    if pairs:
        first = min(min(p[2], p[3]) for p in pairs)
        last = max(max(p[2], p[3]) for p in pairs)
        index = live.workday_index(load_calendar(), first, last)
        buckets: dict[tuple, int] = {}
        for area_id, month, complete_on, paid_on, n in pairs:
            key = (area_id, _month(month), index[paid_on] - index[complete_on])
            buckets[key] = buckets.get(key, 0) + n
        for (area_id, month, days), n in buckets.items():
            add("turnaround", area_id, month, key=str(days), count=n)

    liabilities = live._liabilities(contract)
    if liabilities:
        calcs = Calculation.objects.filter(claim__in=approved.values("pk")).annotate(m=TruncMonth("claim__approved_at"))
        for r in calcs.values("claim__area_id", "m").annotate(**{
            f"a{i}": Sum(Cast(KeyTextTransform(code, "by_liability"), live.MONEY)) for i, (code, _n) in enumerate(liabilities)
        }, **{f"n{i}": Count("claim", distinct=True, filter=Q(by_liability__has_key=code)) for i, (code, _n) in enumerate(liabilities)}):
            for i, (code, name) in enumerate(liabilities):
                if r[f"n{i}"] or r[f"a{i}"]:
                    add("liability", r["claim__area_id"], r["m"], key=code, label=name, count=r[f"n{i}"],
                        amount=(r[f"a{i}"] or NIL).quantize(NIL))

    level = Subquery(Settlement.objects.filter(claim=OuterRef("pk")).order_by("id").values("hosp_lv")[:1])
    category = Subquery(Enrollment.objects.filter(person=OuterRef("person"), contract=OuterRef("contract")).values("category")[:1])
    for kind, qs in (
        ("level", approved.annotate(k=level)), ("place", approved.annotate(k=F("place"))), ("category", approved.annotate(k=category)),
    ):
        for r in qs.values("area_id", "m", "k").annotate(n=Count("id"), a=Sum("payable")):
            add(kind, r["area_id"], r["m"], key=r["k"], count=r["n"], amount=r["a"] or NIL)
    for r in approved.values("area_id", "m", "fixmedins_code", "fixmedins_name").annotate(n=Count("id"), a=Sum("payable")):
        add("hospital", r["area_id"], r["m"], key=r["fixmedins_code"], label=r["fixmedins_name"], count=r["n"], amount=r["a"] or NIL)

    differing = ~Q(difference=0) & Q(difference__isnull=False)
    checks = SettlementCheck.objects.filter(contract=contract).order_by().annotate(m=TruncMonth("settlement__enddate"))
    for r in checks.values("settlement__area_id", "m", "settlement__fixmedins_code", "settlement__fixmedins_name").annotate(
        n=Count("pk"), d=Count("pk", filter=differing), p=Sum("platform_payable"), e=Sum("engine_payable"),
        diff=Sum("difference"), abs=Sum(Abs("difference")),
    ):
        add("difference", r["settlement__area_id"], r["m"], key=r["settlement__fixmedins_code"],
            label=r["settlement__fixmedins_name"], count=r["n"], count2=r["d"], amount=r["p"] or NIL, amount2=r["e"] or NIL,
            amount3=r["diff"] or NIL, amount4=r["abs"] or NIL)
    return out


def rollup_refresh(contract: Contract) -> RollupRun:
    """Rebuild the contract's rows in one transaction (readers see the old rows or the new),
    then compute the fund figures of the contract year for the whole contract and each county
    book into the cache, keyed by this run (the finance selector sums a million claims)."""
    started = time.perf_counter()
    rows = _rows(contract)
    with transaction.atomic():
        ClaimRollup.objects.filter(contract=contract).delete()
        ClaimRollup.objects.bulk_create(rows, batch_size=5000)
        run, _created = RollupRun.objects.update_or_create(contract=contract, defaults={
            "refreshed_at": timezone.now(), "rows": len(rows), "seconds": Decimal(f"{time.perf_counter() - started:.3f}")})
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


def _cells(contract, areas, start, end, kind):
    qs = ClaimRollup.objects.filter(contract=contract, kind=kind, month__gte=start.replace(day=1), month__lte=end)
    return scoped(qs, areas).order_by()


def claims_by_month(contract, areas, start, end) -> list[live.MonthRow]:
    rows: dict[dt.date, dict] = {}
    for kind in ("received", "approved", "paid"):
        for r in _cells(contract, areas, start, end, kind).values("month").annotate(n=Sum("count"), a=Sum("amount")):
            slot = rows.setdefault(r["month"], {})
            slot[kind], slot[f"{kind}_amount"] = r["n"], r["a"] or NIL
    out, month = [], start.replace(day=1)
    while month <= end:
        r = rows.get(month, {})
        out.append(live.MonthRow(month, r.get("received", 0), r.get("approved", 0), r.get("approved_amount", NIL),
                                 r.get("paid", 0), r.get("paid_amount", NIL)))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


def service_times(contract, areas, start, end) -> live.ServiceTimes:
    t = _cells(contract, areas, start, end, "paid").aggregate(n=Sum("count"), limited=Sum("count2"), on_time=Sum("count3"))
    paid, limited, on_time = t["n"] or 0, t["limited"] or 0, t["on_time"] or 0
    histogram = {int(r["key"]): r["n"] for r in _cells(contract, areas, start, end, "turnaround").values("key")
                 .annotate(n=Sum("count"))}
    return live.ServiceTimes(
        paid=paid, with_limit=limited, on_time=on_time, late=limited - on_time, on_time_rate=pct(on_time, limited),
        median_days=live.nearest_rank(histogram, Decimal("0.5")), p90_days=live.nearest_rank(histogram, Decimal("0.9")),
        histogram=histogram,
    )


def payouts(contract, areas, start, end, *, top: int = 10) -> live.Payouts:
    code_labels, level_labels = live._labels()
    total = _cells(contract, areas, start, end, "approved").aggregate(n=Sum("count"), a=Sum("amount"))

    def sums(kind):
        return {r["key"]: (r["n"], r["a"] or NIL) for r in _cells(contract, areas, start, end, kind).values("key")
                .annotate(n=Sum("count"), a=Sum("amount"))}

    liability = sums("liability")
    by_liability = [live.Slice(code, name, *liability.get(code, (0, NIL))) for code, name in live._liabilities(contract)]
    not_recorded = _("not recorded")
    by_level = [live.Slice(k, level_labels.get(k, not_recorded), n, a) for k, (n, a) in sorted(sums("level").items())]
    by_place = [live.Slice(k, code_labels.get(k, k) or not_recorded, n, a) for k, (n, a) in sorted(sums("place").items())]
    by_category = [live.Slice(k, code_labels.get(k, not_recorded), n, a) for k, (n, a) in sorted(sums("category").items())]
    hospitals = [
        live.Slice(r["key"], r["label"], r["n"], r["a"] or NIL)
        for r in _cells(contract, areas, start, end, "hospital").values("key", "label").annotate(n=Sum("count"), a=Sum("amount"))
        .order_by("-a", "label")[:top]
    ]
    return live.Payouts(total["n"] or 0, total["a"] or NIL, by_liability, by_level, by_place, by_category, hospitals)


def platform_engine_differences(contract, areas, start, end, *, top: int = 10) -> live_settlements.Differences:
    cells = _cells(contract, areas, start, end, "difference")
    t = cells.aggregate(n=Sum("count"), d=Sum("count2"), p=Sum("amount"), e=Sum("amount2"), diff=Sum("amount3"), abs=Sum("amount4"))
    hospitals = (cells.values("key", "label").annotate(n=Sum("count"), d=Sum("count2"), diff=Sum("amount3"), abs=Sum("amount4"))
                 .filter(d__gt=0).order_by("-abs", "label")[:top])
    return live_settlements.Differences(
        t["n"] or 0, t["d"] or 0, t["p"] or NIL, t["e"] or NIL, t["diff"] or NIL, t["abs"] or NIL,
        [live_settlements.HospitalDifference(h["key"], h["label"], h["n"], h["d"], h["diff"] or NIL, h["abs"] or NIL)
         for h in hospitals],
    )


def last_refreshed(contract) -> dt.datetime | None:
    return RollupRun.objects.filter(contract=contract).values_list("refreshed_at", flat=True).first()


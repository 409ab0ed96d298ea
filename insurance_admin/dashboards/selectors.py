"""The one selector behind the supervisor's dashboard, its PDF for the joint meeting (联席会) and
its XLSX: the same figures, from the KPI selectors of `insurance_admin.kpis`, for one contract,
the areas the user may see (or one of them) and a period."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from finance import selectors as finance_selectors
from insurance_admin.core.models import Deadline
from insurance_admin.kpis import claims as claim_kpis
from insurance_admin.kpis import deadlines as deadline_kpis
from insurance_admin.kpis import funds as fund_kpis
from insurance_admin.kpis import registry, rollup
from insurance_admin.kpis import settlements as settlement_kpis
from programs.models import Area, Contract

logger = logging.getLogger(__name__)

#: KPI modules whose figures have their own panels; every other registered KPI (assessments,
#: complaints, staffing, ... as their apps register them) is shown in the "other indicators" panel.
OWN_MODULES = {m.__name__ for m in (claim_kpis, deadline_kpis, fund_kpis, settlement_kpis)}


@dataclass(frozen=True)
class Selection:
    """What the user asked for, already checked against their areas."""

    contract: Contract
    area: Area | None  # one area chosen (a county, or the region); None: every area the user sees
    areas: list[str] | None  # codes the KPIs read (with their counties); None: unrestricted
    start: dt.date
    end: dt.date

    @property
    def area_name(self) -> str:
        if self.area is not None:
            return self.area.name
        if self.areas is None:
            return self.contract.program.region.name
        return "、".join(Area.objects.filter(code__in=self.areas).order_by("code").values_list("name", flat=True))


@dataclass(frozen=True)
class OtherKpi:
    key: str
    label: str
    unit: str
    value: Decimal | None


@dataclass
class Dashboard:
    selection: Selection
    today: dt.date
    generated_at: dt.datetime  # live: now; from the rollup: when its rows were rebuilt
    from_rollup: bool
    months: list
    service: claim_kpis.ServiceTimes
    overdue: list
    overdue_items: list
    overdue_total: int
    funds: fund_kpis.FundFigures
    payouts: claim_kpis.Payouts
    differences: settlement_kpis.Differences
    other_kpis: list[OtherKpi] = field(default_factory=list)

    @property
    def totals(self) -> dict:
        return {
            "received": sum(m.received for m in self.months),
            "approved": sum(m.approved for m in self.months),
            "approved_amount": sum((m.approved_amount for m in self.months), Decimal("0.00")),
            "paid": sum(m.paid for m in self.months),
            "paid_amount": sum((m.paid_amount for m in self.months), Decimal("0.00")),
        }


def areas_for_selection(user, contract: Contract, area: Area | None, *, choices: list[Area] | None = None) -> list[str] | None:
    """The area codes a user's dashboard reads: the chosen one, else the contract's region when
    the user sees all of it, else the county books the user sees (`choices`: the user's
    `area_choices` when known, which say both)."""
    if area is not None:
        return [area.code]
    region = contract.program.region
    if choices is not None:
        return [region.code] if region in choices else [a.code for a in choices]
    if finance_selectors.sees_whole_region(user, contract):
        return [region.code]
    return [a.code for a in finance_selectors.areas_for(user, contract)]


def area_choices(user, contract: Contract) -> list[Area]:
    """The areas a user may pick for a contract: its region (when the user sees all of it) and
    the county books the user sees."""
    region = contract.program.region
    books = [a for a in finance_selectors.areas_for(user, contract) if a != region]
    return ([region] if finance_selectors.sees_whole_region(user, contract) else []) + books


def other_kpis(selection: Selection, *, figures: rollup.Figures | None = None) -> list[OtherKpi]:
    """Every registered KPI without a panel of its own; from the rollup's figures where they
    hold the KPI (`rollup.KPIS`) and the page is served from them, else live."""
    out = []
    for kpi in registry.all_kpis():
        if kpi.func.__module__ in OWN_MODULES:
            continue
        try:
            if figures is not None and kpi.key in rollup.KPIS:
                value = rollup.KPIS[kpi.key](figures)
            else:
                value = kpi.func(selection.contract, selection.areas, selection.start, selection.end)
        except Exception:  # noqa: BLE001 - one failing indicator must not take the dashboard down
            logger.exception("KPI %s failed", kpi.key)
            value = None
        out.append(OtherKpi(kpi.key, str(kpi.label), kpi.unit, value))
    return out


def dashboard(selection: Selection, *, today: dt.date | None = None, overdue_items: int = 20,
              live: bool | None = None) -> Dashboard:
    """The figures of one selection. Claims, payouts and differences come from the rollup when
    the contract's rows exist (`live` None: any period, month rows and day rows), with the fund
    figures as of the same run (cached); else live (`live` True). Overdue items are always live:
    the counts by kind from the open-deadline counts that every deadline write keeps up to date
    (`live` True: counted from the deadlines), the oldest items from the deadlines."""
    today = today or timezone.localdate()
    s = selection
    run = None if live else rollup.covers(s.contract, s.start, s.end)
    if live:
        overdue_kinds = deadline_kpis.overdue_by_kind(s.contract, s.areas, today)
        oldest = list(deadline_kpis.overdue(s.contract, s.areas, today).select_related("area")
                      .order_by("due_date", "id")[:overdue_items])
    else:
        overdue_kinds, oldest = rollup.overdue_now(s.contract, s.areas, today, items=overdue_items)
    figures = rollup.Figures(s.contract, s.areas, s.start, s.end) if run is not None else None
    if figures is not None:
        months, service = figures.claims_by_month(), figures.service_times()
        payouts, differences = figures.payouts(), figures.platform_engine_differences()
        funds = rollup.fund_figures(s.contract, s.areas, s.start, s.end, run=run)
    else:
        months = claim_kpis.claims_by_month(s.contract, s.areas, s.start, s.end)
        service = claim_kpis.service_times(s.contract, s.areas, s.start, s.end)
        payouts = claim_kpis.payouts(s.contract, s.areas, s.start, s.end)
        differences = settlement_kpis.platform_engine_differences(s.contract, s.areas, s.start, s.end)
        funds = fund_kpis.fund_figures(s.contract, s.areas, s.start, s.end)
    return Dashboard(
        selection=s,
        today=today,
        generated_at=timezone.localtime(run.refreshed_at) if run is not None else timezone.localtime(),
        from_rollup=run is not None,
        months=months,
        service=service,
        overdue=overdue_kinds,
        overdue_items=oldest,
        overdue_total=sum(k.count for k in overdue_kinds),
        funds=funds,
        payouts=payouts,
        differences=differences,
        other_kpis=other_kpis(s, figures=figures),
    )


def deadline_kind_label(kind: str) -> str:
    return str(dict(Deadline.Kind.choices).get(kind, kind))

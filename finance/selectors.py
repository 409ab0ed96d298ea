"""Reads of the finance app: overdue premium and suspended liability, balance histories, the fund
position per contract year and area, and the clearing statements — all computed from the
ledgers and the claims tables, never from stored totals, so a statement can be reproduced."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from claims.models import Claim, Settlement
from programs.models import Area, Contract

from . import calculations as calc
from .calculations._money import exact, fmt_share, percent, share_of
from .models import (
    FinanceTerms,
    HospitalPayable,
    LedgerEntry,
    Penalty,
    PremiumInstallment,
    PremiumSchedule,
    RevolvingFund,
)
from .seed import FINANCE_TERMS

NIL = Decimal("0.00")


def terms_for(contract: Contract) -> FinanceTerms:
    terms = FinanceTerms.objects.filter(contract=contract).first()
    if terms is None:
        terms, _ = FinanceTerms.objects.get_or_create(contract=contract, defaults=FINANCE_TERMS.get(contract.code, {}))
    return terms


def current_headcounts(schedule: PremiumSchedule) -> dict[str, dict[str, int]]:
    """The headcounts after the latest headcount change (the schedule's own before any)."""
    last = schedule.headcount_changes.order_by("-created_at", "-id").first()
    return last.headcounts_after if last is not None else schedule.headcounts


def installments_overdue(contract: Contract, on_date: dt.date) -> list[PremiumInstallment]:
    """Premium items due before `on_date` with cash still outstanding (refunds excluded: those are
    the insurer's to pay)."""
    rows = (
        PremiumInstallment.objects.filter(contract=contract, due_date__lt=on_date)
        .exclude(kind=PremiumInstallment.Kind.REFUND)
        .order_by("seq")
    )
    return [row for row in rows if row.outstanding > 0]


def premium_suspension(contract: Contract, on_date: dt.date) -> list[PremiumInstallment]:
    """The unpaid overdue installments that suspend the insurer's liability on `on_date`, for
    contracts whose terms say so (seeds 001, 002, 004); empty otherwise. Claim approval warns
    when this is not empty; the contract's finance page shows the suspended period."""
    if not terms_for(contract).unpaid_suspends_liability:
        return []
    return installments_overdue(contract, on_date)


def _sum(qs, expr="amount") -> Decimal:
    return qs.aggregate(s=Sum(expr))["s"] or NIL


def balance_history(entries) -> list[tuple[dt.date, Decimal]]:
    """(date, balance at the end of that day) for every day with an entry."""
    points: list[tuple[dt.date, Decimal]] = []
    balance = NIL
    for booked_on, amount in entries.order_by("booked_on", "id").values_list("booked_on", "amount"):
        balance += amount
        if points and points[-1][0] == booked_on:
            points[-1] = (booked_on, balance)
        else:
            points.append((booked_on, balance))
    return points


def revolving_chart_options(fund: RevolvingFund) -> dict:
    """ECharts options for the balance history; amounts as strings (never float in JSON)."""
    points = balance_history(fund.entries.all())
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 90, "right": 24, "top": 30, "bottom": 40},
        "xAxis": {"type": "category", "data": [d.isoformat() for d, _ in points]},
        "yAxis": {"type": "value", "name": "元"},
        "series": [
            {"name": "余额", "type": "line", "step": "end", "data": [str(b) for _, b in points]},
            {"name": "初始金额", "type": "line", "symbol": "none", "lineStyle": {"type": "dashed"},
             "data": [str(fund.opening_amount) for _ in points]},
        ],
    }


# --- fund position --------------------------------------------------------------------------


def area_ids_of(area: Area | None) -> list[int] | None:
    if area is None:
        return None
    return [area.pk, *Area.objects.filter(parent=area).values_list("pk", flat=True)]


def area_books(contract: Contract) -> list[Area]:
    """The county-level books of a contract's region (Tongliao's nine), or the region itself."""
    region = contract.program.region
    counties = list(Area.objects.filter(parent=region).order_by("code"))
    return counties or [region]


def premium_income(contract: Contract, area: Area | None = None) -> Decimal | None:
    """Accrued premium: the schedule's total plus headcount changes; for an area book the
    per-capita premium × that area's current headcount (None when not allocated by area)."""
    schedule = PremiumSchedule.objects.filter(contract=contract).first()
    if schedule is None:
        return None
    if area is None or area == contract.program.region:
        changes = _sum(schedule.headcount_changes.all(), "difference")
        return schedule.total + changes
    per_capita = {k: Decimal(v) for k, v in schedule.per_capita.items()}
    counts = current_headcounts(schedule)
    codes = [area.code, *Area.objects.filter(parent=area).values_list("code", flat=True)]
    if not any(code in counts for code in codes):
        only_area = list(area_books(contract)) == [area] and set(counts) == {""}
        return calc.headcount_premium(per_capita, counts[""]) if only_area else None
    return sum((calc.headcount_premium(per_capita, counts[c]) for c in codes if c in counts), NIL)


@dataclass(frozen=True)
class FundPosition:
    """One contract year (optionally one area book) at `on_date` or for a period. Amounts yuan."""

    contract: Contract
    area: Area | None
    start: dt.date | None
    end: dt.date | None
    premium_income: Decimal | None
    premium_received: Decimal | None  # None: an area book of a contract whose premium is received whole
    deductions: Decimal  # assessment deductions from the premium
    fund: Decimal | None  # premium income - deductions
    claims_manual: Decimal
    claims_instant: Decimal
    claims_instant_verified: Decimal
    recoveries: Decimal  # non-compliant payments recovered (reduce the medical spend)
    medical_spend: Decimal
    operating_cost: Decimal | None
    usable_income: Decimal | None
    usage_rate: Decimal | None
    commitment_rate: Decimal
    loss_ratio: Decimal | None
    hospital_payable: Decimal
    hospital_paid: Decimal
    usage: calc.FundUsage | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def usage_rate_display(self) -> str:
        return percent(self.usage_rate) if self.usage_rate is not None else "—"

    @property
    def loss_ratio_display(self) -> str:
        return percent(self.loss_ratio) if self.loss_ratio is not None else "—"

    @property
    def commitment_display(self) -> str:
        return fmt_share(self.commitment_rate)

    @property
    def below_commitment(self) -> bool:
        return self.usage_rate is not None and self.usage_rate < self.commitment_rate


def claims_paid(contract: Contract, area_ids: list[int] | None, start: dt.date | None = None, end: dt.date | None = None) -> tuple[Decimal, Decimal, Decimal]:
    """(manual, instant as paid by the platform, instant as verified by the engine).

    Manual: approved or paid claims' `payable`, dated by approval. Instant: the platform's
    hifmi_pay + hifob_pay of instant settlements, dated by discharge; the engine's own figure
    (verification) where one was computed, the platform's otherwise."""
    claims = Claim.objects.filter(contract=contract, status__in=[Claim.Status.APPROVED, Claim.Status.PAID])
    settlements = Settlement.objects.filter(contract=contract, source=Settlement.Source.INSTANT)
    if area_ids is not None:
        claims = claims.filter(area_id__in=area_ids)
        settlements = settlements.filter(area_id__in=area_ids)
    if start:
        claims = claims.filter(approved_at__date__gte=start)
        settlements = settlements.filter(enddate__gte=start)
    if end:
        claims = claims.filter(approved_at__date__lte=end)
        settlements = settlements.filter(enddate__lte=end)
    manual = _sum(claims, "payable")
    totals = settlements.aggregate(mi=Sum("hifmi_pay"), ob=Sum("hifob_pay"))
    instant = (totals["mi"] or NIL) + (totals["ob"] or NIL)
    checked = settlements.filter(verification__isnull=False)
    unchecked = settlements.filter(verification__isnull=True).aggregate(mi=Sum("hifmi_pay"), ob=Sum("hifob_pay"))
    verified = _sum(checked, "verification__engine_payable") + (unchecked["mi"] or NIL) + (unchecked["ob"] or NIL)
    return manual, instant, verified


def fund_position(contract: Contract, area: Area | None = None, *, start: dt.date | None = None, end: dt.date | None = None) -> FundPosition:
    terms = terms_for(contract)
    area_ids = area_ids_of(area) if area is not None and area != contract.program.region else None
    income = premium_income(contract, area)
    entries = LedgerEntry.objects.filter(contract=contract)
    receipts = entries.filter(book=LedgerEntry.Book.PREMIUM)
    penalties = Penalty.objects.filter(contract=contract)
    payables = HospitalPayable.objects.filter(contract=contract)
    received_by_area = receipts.filter(area__isnull=False).exists()
    if area_ids is not None:
        penalties = penalties.filter(area_id__in=area_ids)
        payables = payables.filter(area_id__in=area_ids)
        receipts = receipts.filter(area_id__in=area_ids)
    if start:
        receipts, penalties, payables = receipts.filter(booked_on__gte=start), penalties.filter(imposed_on__gte=start), payables.filter(period__gte=start)
    if end:
        receipts, penalties, payables = receipts.filter(booked_on__lte=end), penalties.filter(imposed_on__lte=end), payables.filter(period__lte=end)
    deductions = _sum(penalties.filter(kind=Penalty.Kind.ASSESSMENT_DEDUCTION))
    recoveries = _sum(penalties.filter(kind=Penalty.Kind.RECOVERY))
    manual, instant, verified = claims_paid(contract, area_ids, start, end)
    with exact():
        spend = manual + instant - recoveries
        fund = None if income is None else income - deductions
        operating_cost = None if fund is None else share_of(fund, terms.operating_cost_rate)
        usable = None if fund is None else fund - operating_cost
        usage_rate = spend / usable if usable else None
        loss_ratio = spend / fund if fund else None
    usage = None
    warnings = []
    if terms.clearing == FinanceTerms.Clearing.YEARLY_USAGE and income and usable and usable > 0 and area_ids is None:
        usage = calc.fund_usage(
            fund, spend, terms.opening_rolling_surplus, terms.last_year_premium or NIL,
            operating_cost_rate=terms.operating_cost_rate, commitment_rate=terms.commitment_rate,
            warning_threshold=terms.warning_threshold,
        )
        if usage.financing_adjustment_warning:
            warnings.append("rolling_surplus_below_threshold")
    if usage_rate is not None and usage_rate < terms.commitment_rate and terms.clearing == FinanceTerms.Clearing.YEARLY_USAGE:
        warnings.append("usage_below_commitment")
    return FundPosition(
        contract=contract, area=area, start=start, end=end, premium_income=income,
        # the authority pays the premium for the whole contract: an area book has a received
        # figure only where receipts are booked to areas, never the contract's total or 0.00
        premium_received=_sum(receipts) if area_ids is None or received_by_area else None, deductions=deductions, fund=fund, claims_manual=manual, claims_instant=instant,
        claims_instant_verified=verified, recoveries=recoveries, medical_spend=spend, operating_cost=operating_cost,
        usable_income=usable, usage_rate=usage_rate, commitment_rate=terms.commitment_rate, loss_ratio=loss_ratio,
        hospital_payable=_sum(payables), hospital_paid=_sum(LedgerEntry.objects.filter(hospital_payable__in=payables)),
        usage=usage, warnings=warnings,
    )


# --- clearing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClearingStatement:
    contract: Contract
    kind: str
    contracts: list[Contract]
    # label, fund (None: no premium allocated to this county book), medical spend
    books: list[tuple[str, Decimal | None, Decimal]]
    clearing: calc.Clearing | None
    usage: calc.FundUsage | None
    missing: list[str]  # county books (and years) without premium allocated to them

    @property
    def total_fund(self) -> Decimal:
        return sum((fund for _label, fund, _spend in self.books if fund is not None), NIL)

    @property
    def total_spend(self) -> Decimal:
        return sum((spend for _label, _fund, spend in self.books), NIL)


def clearing_statement(contract: Contract) -> ClearingStatement:
    """Tongliao: the service cycle's contracts pooled, one book per county. Taikang: the year's
    fund usage.

    Allocation rule of the county books (seed 001: city-level pooling, separate books per
    county). A county's fund is its own premium — the per-capita premium × the county's
    headcount as recorded in the premium schedule (or the latest headcount change, e.g. the
    final end-of-November headcount per county) — less the assessment deductions booked to
    it; its spend is its claims less its recoveries. No county share is invented when the
    premium was computed on a city-wide headcount only (Tongliao's provisional 2,217,285
    residents): such a county book shows its spend with the fund "not allocated", and a
    city-level line per contract year carries what no county book holds — the contract's
    fund less the county funds, and any spend not booked to a county. The books therefore
    always add up to the contract's whole fund and spend, and the clearing (whose rate is
    computed on the city-level pool) is right whatever the county split."""
    terms = terms_for(contract)
    if terms.clearing == FinanceTerms.Clearing.YEARLY_USAGE:
        position = fund_position(contract)
        return ClearingStatement(contract, terms.clearing, [contract], [], None, position.usage,
                                 [] if position.usage else ["premium schedule"])
    if terms.clearing != FinanceTerms.Clearing.CYCLE:
        return ClearingStatement(contract, terms.clearing, [contract], [], None, None, [])
    contracts = list(
        Contract.objects.filter(program=contract.program, service_cycle_start=contract.service_cycle_start,
                                service_cycle_end=contract.service_cycle_end).select_related("program__region").order_by("year")
    )
    region = contract.program.region
    counties = [a for a in area_books(contract) if a != region]
    county_books: dict[int, list] = {a.pk: [a.name, None, NIL] for a in counties}
    city_books: list[tuple[str, Decimal | None, Decimal]] = []
    missing: list[str] = []
    for c in contracts:
        whole = fund_position(c)
        allocated_fund = allocated_spend = NIL
        for area in counties:
            position = fund_position(c, area)
            book = county_books[area.pk]
            book[2] += position.medical_spend
            allocated_spend += position.medical_spend
            if position.fund is None:
                missing.append(f"{c.year} {area.name}")
                continue
            book[1] = (book[1] or NIL) + position.fund
            allocated_fund += position.fund
        if whole.fund is None:
            missing.append(f"{c.year} {region.name}")
        rest_fund = ((whole.fund or NIL) - allocated_fund).quantize(NIL)
        rest_spend = (whole.medical_spend - allocated_spend).quantize(NIL)
        if rest_fund or rest_spend or not counties:
            label = (_("%(year)s %(region)s (not allocated to a county)") if counties else "%(year)s %(region)s") % {
                "year": c.year, "region": region.name}
            city_books.append((label, rest_fund, rest_spend))
    books = [(label, fund, spend) for label, fund, spend in county_books.values() if fund is not None or spend]
    books += city_books
    clearing = None
    if books and sum((b[1] or NIL) for b in books) > 0:
        clearing = calc.pooled_clearing(
            [calc.ClearingBook(label, fund or NIL, spend) for label, fund, spend in books],
            retention_limit=terms.retention_limit, authority_loss_share=terms.authority_loss_share,
        )
    return ClearingStatement(contract, terms.clearing, contracts, books, clearing, None, missing)


def contracts_for(user):
    return Contract.objects.for_user(user).select_related("program__region").order_by("-year", "code")


def sees_whole_region(user, contract: Contract) -> bool:
    """Whether `user` may read the contract's region-level figures (the whole pool, the
    city-level lines); a county-bound user reads their own county books only."""
    return contract.program.region_id in set(Area.objects.for_user(user).values_list("pk", flat=True))


def areas_for(user, contract: Contract) -> list[Area]:
    """The contract's county books the user may see."""
    visible = set(Area.objects.for_user(user).values_list("pk", flat=True))
    return [a for a in area_books(contract) if a.pk in visible]


def entries_for(user, contract: Contract):
    return LedgerEntry.objects.for_user(user).filter(contract=contract).select_related("created_by", "reverses", "deposit").order_by("-booked_on", "-id")


# --- work queue of finance (issue 23) -----------------------------------------------------------
#
# Premium installments, hospital payables, revolving-fund payments, the pre-payment and deposit
# returns owed by finance: the open deadline records (insurance_admin.core Deadline, role
# "finance", written by finance.deadlines in the same transaction as the row) that have reached
# their reminder day — due soon, due today or overdue — in the user's areas, earliest due first.
# Approved claims to pay are the claims' own queue (claims.selectors.claim_queue "ready_to_pay").


def _payments_due(user, today: dt.date):
    from django.db.models import Q

    from insurance_admin.core.models import Deadline

    from .deadlines import ROLE

    open_ = Q(met_on__isnull=True) | Q(met_on__gt=today)
    return Deadline.objects.for_user(user).filter(open_, role=ROLE, remind_on__lte=today)


def payments_due(user, today: dt.date):
    """The finance deadlines to act on (a queryset in due order, with the contract)."""
    return _payments_due(user, today).select_related("contract").order_by("due_date", "id")


def payments_due_count(user, today: dt.date) -> int:
    return _payments_due(user, today).count()

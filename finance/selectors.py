"""Reads of the finance app: overdue premium and suspended liability, balance histories, the fund
position per contract year and area, and the clearing statements — all computed from the
ledgers and the claims tables, never from stored totals, so a statement can be reproduced."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from insurance_admin.core.models import Deadline
from insurance_admin.core.money import fmt_share, percent
from programs.models import Area, Contract, HeadcountSnapshot, PremiumRate

from . import calculations as calc
from .basis import basis_display, claims_figures, fund_figures, period_display
from .models import (
    FinanceTerms,
    HospitalPayable,
    LedgerEntry,
    PremiumInstallment,
    PremiumSchedule,
    RevolvingFund,
)

NIL = Decimal("0.00")


def terms_for(contract: Contract) -> FinanceTerms:
    """The contract's finance terms, from the database only: a contract without a row gets one
    with the model's defaults (no suspension, deposit, clearing or installment rules) for an
    administrator to fill in."""
    terms = FinanceTerms.objects.filter(contract=contract).first()
    if terms is None:
        terms, _created = FinanceTerms.objects.get_or_create(contract=contract)
    return terms


def per_capita_of(contract: Contract) -> dict[str, Decimal]:
    """{headcount category: per-capita premium} from the contract's premium rates (`programs.
    PremiumRate`, the one source of the per-capita premium)."""
    return {rate.headcount_category: rate.per_capita
            for rate in PremiumRate.objects.filter(contract=contract).order_by("pk")}


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


def hospital_payable_by_reference(reference: str) -> HospitalPayable | None:
    """The hospital payable recorded under `reference` (a hospital batch's handover), or None."""
    return HospitalPayable.objects.filter(reference=reference).first()


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


def snapshot_weights(contract: Contract, books: list[Area]) -> dict[str, Decimal] | None:
    """Each county book's weight in the contract's latest headcount snapshot (the final one
    if taken, else the provisional one; `programs.HeadcountSnapshot`): its implied premium
    (headcount × per-capita) where every row of the snapshot is priced, else its headcount.
    Keyed by area code; None when there is no snapshot or it counts nobody in these books."""
    snapshots = HeadcountSnapshot.objects.filter(contract=contract)
    kind = HeadcountSnapshot.Kind.FINAL if snapshots.filter(kind=HeadcountSnapshot.Kind.FINAL).exists() \
        else HeadcountSnapshot.Kind.PROVISIONAL
    rows = list(snapshots.filter(kind=kind).select_related("area"))
    if not rows:
        return None
    priced = all(r.premium is not None for r in rows)
    book_of = {}
    for book in books:
        book_of[book.pk] = book.code
        for child in Area.objects.filter(parent=book).values_list("pk", flat=True):
            book_of[child] = book.code
    weights = {book.code: Decimal(0) for book in books}
    for row in rows:
        if row.area_id in book_of:
            weights[book_of[row.area_id]] += row.premium if priced else Decimal(row.headcount)
    return weights if any(weights.values()) else None


def county_premiums(contract: Contract) -> dict[str, Decimal] | None:
    """The contract's premium income allocated to its county books, keyed by area code, summing
    exactly to `premium_income(contract)` — for a premium computed on a region-wide headcount
    (Tongliao's provisional 2,217,285 residents) whose counties are counted in a headcount
    snapshot. Allocation: `calculations.allocate_premium` (in proportion to the snapshot's
    headcount × per-capita premium, remainder fen by largest remainder, ties to the smaller
    area code). None where the schedule holds county headcounts itself, or there is no
    snapshot, or the contract has no county books."""
    schedule = PremiumSchedule.objects.filter(contract=contract).first()
    if schedule is None or any(code for code in current_headcounts(schedule)):
        return None
    region = contract.program.region
    books = [a for a in area_books(contract) if a != region]
    if not books:
        return None
    weights = snapshot_weights(contract, books)
    if weights is None:
        return None
    return calc.allocate_premium(premium_income(contract), weights)


def premium_income(contract: Contract, area: Area | None = None) -> Decimal | None:
    """Accrued premium: the schedule's total plus headcount changes; for an area book the
    per-capita premium × that area's current headcount where the schedule counts by area,
    else its share of the contract's premium by the headcount snapshot (`county_premiums`);
    None when not allocated by area."""
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
        if only_area:
            return calc.headcount_premium(per_capita, counts[""])
        allocated = county_premiums(contract)
        return None if allocated is None else allocated.get(area.code)
    return sum((calc.headcount_premium(per_capita, counts[c]) for c in codes if c in counts), NIL)


@dataclass(frozen=True)
class FundPosition:
    """One contract year (optionally one area book) for a period on a basis (`finance.basis`).
    Amounts yuan."""

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
    basis: str = "contract"  # finance.basis.CONTRACT or CASH
    areas: tuple[Area, ...] = ()  # the books asked for; empty: the whole contract

    @property
    def basis_display(self) -> str:
        return basis_display(self.basis)

    @property
    def period_display(self) -> str:
        return period_display(self.start, self.end)

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


def claims_paid(contract: Contract, area_ids: list[int] | None, start: dt.date | None = None, end: dt.date | None = None,
                basis: str = "contract") -> tuple[Decimal, Decimal, Decimal]:
    """(manual, instant as paid by the platform, instant as verified by the engine) on `basis`
    (`finance.basis.claims_figures`): on the contract-year basis by discharge date, whenever
    approved or paid; on the cash basis by the booking date of the payments."""
    return claims_figures(contract, area_ids, start, end, basis)


def fund_position(contract: Contract, area: Area | None = None, *, start: dt.date | None = None, end: dt.date | None = None,
                  basis: str = "contract") -> FundPosition:
    """The fund of one contract year (or one area book) over [start, end] on `basis`: the
    one selector `finance.basis.fund_figures` (contract-year basis unless told otherwise)."""
    return fund_figures(contract, area, start, end, basis)


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
        Contract.objects.in_use().filter(program=contract.program, service_cycle_start=contract.service_cycle_start,
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
    # cycle: finance.deadlines imports this module (terms_for)
    from .deadlines import ROLE

    open_ = Q(met_on__isnull=True) | Q(met_on__gt=today)
    return Deadline.objects.for_user(user).filter(open_, role=ROLE, remind_on__lte=today)


def payments_due(user, today: dt.date):
    """The finance deadlines to act on (a queryset in due order, with the contract)."""
    return _payments_due(user, today).select_related("contract").order_by("due_date", "id")


def payments_due_count(user, today: dt.date) -> int:
    return _payments_due(user, today).count()

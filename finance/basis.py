"""The two bases a fund is read on, computed in one place (issue 19 item 4).

Every figure of a fund — the finance dashboard, the contract page, the periodic reports
(`finance.reports`), their PDF/XLSX exports, the clearing statement, and any reader above
finance (the supervision dashboards) — comes from `fund_figures`, so two pages asked the same
question on the same basis and period give the same answer.

**Contract year** (`Basis.CONTRACT`, 口径：合同年度（按出院日期）): everything that belongs to
the contract, each record placed on the date that makes it part of the contract year.

- manual claims (approved or paid) and instant settlements by their **discharge date**
  (DOMAIN.md §4: the year of a record is the year of its discharge date), whenever they
  were approved or paid — a claim discharged on 12-31 and approved in January is a December
  claim of that year;
- premium income is the contract's accrued premium (the schedule plus headcount changes;
  for a county book its allocated share): the year's fund, not a movement of the period;
- assessment deductions and recoveries by the date they were imposed (they have no other).

**Cash** (`Basis.CASH`, 口径：收付实现（按记账日期）): money that moved within the period, by the
ledger's booking date.

- manual claims: the claim-payment entries (the claims book, or the revolving fund's debits
  that name a claim) booked in the period, net of their reversals;
- instant settlements: the payments to hospitals booked in the period;
- recoveries and deductions: their settlement entries booked in the period;
- premium income stays the year's accrued fund, so that a usage rate on either basis is the
  share of the same fund.

On both bases premium *received* is the receipts booked in the period: a receipt is cash and
has one date only. `start`/`end` of None leave that side of the period open (the clearing reads
the contract's every record). Amounts are `Decimal` yuan; rates exact (displayed half-up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from claims.models import Claim, Settlement
from insurance_admin.core.money import exact, share_of
from programs.models import Area, Contract

from . import calculations as calc
from .models import FinanceTerms, HospitalPayable, LedgerEntry, Penalty

NIL = Decimal("0.00")
CONTRACT = "contract"
CASH = "cash"
#: basis key -> its name on the page
BASES = {
    CONTRACT: _("Contract year (by discharge date)"),
    CASH: _("Cash (by booking date)"),
}


def basis_display(basis: str) -> str:
    """'口径：合同年度（按出院日期）' in the user's language."""
    return gettext("Basis: %(basis)s") % {"basis": BASES[basis]}


def period_display(start: dt.date | None, end: dt.date | None) -> str:
    """'期间 2025-01-01 至 2025-12-31'; an open side reads as such."""
    return gettext("Period %(start)s to %(end)s") % {
        "start": start.isoformat() if start else gettext("the beginning"),
        "end": end.isoformat() if end else gettext("today"),
    }


def clean_basis(value: str | None) -> str:
    """A basis from a query string; anything else is the contract-year basis."""
    return value if value in BASES else CONTRACT


def _sum(qs, expr="amount") -> Decimal:
    """Σ of a money column, as money (two decimals; SQLite's sums drop trailing zeros)."""
    return (qs.aggregate(s=Sum(expr))["s"] or NIL).quantize(NIL)


def _dated(qs, field: str, start: dt.date | None, end: dt.date | None):
    if start:
        qs = qs.filter(**{f"{field}__gte": start})
    if end:
        qs = qs.filter(**{f"{field}__lte": end})
    return qs


def book_areas(contract: Contract, areas: Area | Iterable[Area] | None) -> tuple[list[Area], list[int] | None]:
    """The areas asked for, and the area ids to filter on (None: the whole contract — no
    area given, or the contract's region among them)."""
    if areas is None:
        return [], None
    listed = [areas] if isinstance(areas, Area) else list(areas)
    if not listed or any(a.pk == contract.program.region_id for a in listed):
        return listed, None
    ids: set[int] = set()
    for area in listed:
        ids.add(area.pk)
        ids.update(Area.objects.filter(parent=area).values_list("pk", flat=True))
    return listed, sorted(ids)


# --- the claims side, on either basis -------------------------------------------------------


def manual_claims(contract: Contract, area_ids: list[int] | None, start: dt.date | None, end: dt.date | None):
    """Contract basis: the approved or paid claims discharged in the period (queryset of Claim)."""
    claims = Claim.objects.filter(contract=contract, status__in=[Claim.Status.APPROVED, Claim.Status.PAID])
    if area_ids is not None:
        claims = claims.filter(area_id__in=area_ids)
    return _dated(claims, "enddate", start, end)


def instant_settlements(contract: Contract, area_ids: list[int] | None, start: dt.date | None, end: dt.date | None):
    """The platform's instant settlements discharged in the period."""
    settlements = Settlement.objects.filter(contract=contract, source=Settlement.Source.INSTANT)
    if area_ids is not None:
        settlements = settlements.filter(area_id__in=area_ids)
    return _dated(settlements, "enddate", start, end)


def claim_payment_entries(contract: Contract, area_ids: list[int] | None, start: dt.date | None, end: dt.date | None):
    """Cash basis: the ledger entries that paid a claim (or reversed such a payment), booked
    in the period. Their signed amount moves the book; `paid_amount` turns it into money paid
    out (a revolving-fund debit is negative on its book, a claims-book payment positive)."""
    entries = LedgerEntry.objects.filter(contract=contract, claim__isnull=False,
                                         book__in=[LedgerEntry.Book.CLAIMS, LedgerEntry.Book.REVOLVING])
    if area_ids is not None:
        entries = entries.filter(area_id__in=area_ids)
    return _dated(entries, "booked_on", start, end)


def paid_amount(entries) -> Decimal:
    """Money paid out to claimants by these claim-payment entries, net of reversals."""
    claims_book = _sum(entries.filter(book=LedgerEntry.Book.CLAIMS))
    revolving = _sum(entries.filter(book=LedgerEntry.Book.REVOLVING))
    return claims_book - revolving


def hospital_payment_entries(contract: Contract, area_ids: list[int] | None, start: dt.date | None, end: dt.date | None):
    """Cash basis: payments to hospitals for their instant-settlement advances, booked in the period."""
    entries = LedgerEntry.objects.filter(contract=contract, book=LedgerEntry.Book.HOSPITAL)
    if area_ids is not None:
        entries = entries.filter(area_id__in=area_ids)
    return _dated(entries, "booked_on", start, end)


def _platform_total(settlements) -> Decimal:
    totals = settlements.aggregate(mi=Sum("hifmi_pay"), ob=Sum("hifob_pay"))
    return ((totals["mi"] or NIL) + (totals["ob"] or NIL)).quantize(NIL)


def claims_figures(contract: Contract, area_ids: list[int] | None, start: dt.date | None, end: dt.date | None,
                   basis: str = CONTRACT) -> tuple[Decimal, Decimal, Decimal]:
    """(manual, instant as paid by the platform, instant as verified by the engine) on `basis`.

    Contract basis: manual claims' `payable` and the instant settlements' hifmi_pay + hifob_pay
    by discharge date; the verified figure is the engine's own where a verification was
    computed, the platform's otherwise. Cash basis: claim payments and hospital payments booked
    in the period (the verified figure is the money paid: the same)."""
    if basis == CASH:
        manual = paid_amount(claim_payment_entries(contract, area_ids, start, end))
        instant = _sum(hospital_payment_entries(contract, area_ids, start, end))
        return manual, instant, instant
    manual = _sum(manual_claims(contract, area_ids, start, end), "payable")
    settlements = instant_settlements(contract, area_ids, start, end)
    instant = _platform_total(settlements)
    checked = settlements.filter(verification__isnull=False)
    verified = _sum(checked, "verification__engine_payable") + _platform_total(settlements.filter(verification__isnull=True))
    return manual, instant, verified


def _penalty_amount(contract: Contract, kind: str, area_ids, start, end, basis: str) -> Decimal:
    if basis == CASH:
        entries = LedgerEntry.objects.filter(contract=contract, book=LedgerEntry.Book.PENALTY, penalty__kind=kind)
        if area_ids is not None:
            entries = entries.filter(penalty__area_id__in=area_ids)
        return _sum(_dated(entries, "booked_on", start, end))
    penalties = Penalty.objects.filter(contract=contract, kind=kind)
    if area_ids is not None:
        penalties = penalties.filter(area_id__in=area_ids)
    return _sum(_dated(penalties, "imposed_on", start, end))


# --- the one selector -----------------------------------------------------------------------


def fund_figures(contract: Contract, areas: Area | Iterable[Area] | None = None, start: dt.date | None = None,
                 end: dt.date | None = None, basis: str = CONTRACT):
    """The fund of one contract year — the whole contract (`areas` None), one county book (an
    `Area`) or several (a list of areas, e.g. a supervisor's counties) — over [start, end] on
    `basis` (`CONTRACT` or `CASH`). Returns a `selectors.FundPosition` that carries its basis and
    period (`basis_display`, `period_display` for the page).

    Premium income of a county book is the contract's premium allocated to it (the schedule's
    own county headcounts, else the headcount snapshot: `selectors.premium_income`); None where
    no allocation exists. A list of areas sums its books (None if any book has none)."""
    from .selectors import (  # selectors reads through this module
        FundPosition,
        premium_income,
        terms_for,
    )

    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}")
    terms = terms_for(contract)
    listed, area_ids = book_areas(contract, areas)
    if area_ids is None:
        income = premium_income(contract)
    else:
        parts = [premium_income(contract, a) for a in listed]
        income = None if any(p is None for p in parts) else sum(parts, NIL)
    receipts = LedgerEntry.objects.filter(contract=contract, book=LedgerEntry.Book.PREMIUM)
    received_by_area = receipts.filter(area__isnull=False).exists()
    payables = HospitalPayable.objects.filter(contract=contract)
    if area_ids is not None:
        receipts = receipts.filter(area_id__in=area_ids)
        payables = payables.filter(area_id__in=area_ids)
    receipts = _dated(receipts, "booked_on", start, end)
    payables = _dated(payables, "period", start.replace(day=1) if start else None, end)
    deductions = _penalty_amount(contract, Penalty.Kind.ASSESSMENT_DEDUCTION, area_ids, start, end, basis)
    recoveries = _penalty_amount(contract, Penalty.Kind.RECOVERY, area_ids, start, end, basis)
    manual, instant, verified = claims_figures(contract, area_ids, start, end, basis)
    hospital_paid = _sum(hospital_payment_entries(contract, area_ids, start, end)) if basis == CASH \
        else _sum(LedgerEntry.objects.filter(hospital_payable__in=payables))
    with exact():
        spend = manual + instant - recoveries
        fund = None if income is None else income - deductions
        operating_cost = None if fund is None else share_of(fund, terms.operating_cost_rate)
        usable = None if fund is None else fund - operating_cost
        usage_rate = spend / usable if usable else None
        loss_ratio = spend / fund if fund else None
    usage = None
    warnings = []
    yearly = terms.clearing == FinanceTerms.Clearing.YEARLY_USAGE
    if yearly and income and usable and usable > 0 and area_ids is None:
        usage = calc.fund_usage(
            fund, spend, terms.opening_rolling_surplus, terms.last_year_premium or NIL,
            operating_cost_rate=terms.operating_cost_rate, commitment_rate=terms.commitment_rate,
            warning_threshold=terms.warning_threshold,
        )
        if usage.financing_adjustment_warning:
            warnings.append("rolling_surplus_below_threshold")
    if usage_rate is not None and usage_rate < terms.commitment_rate and yearly:
        warnings.append("usage_below_commitment")
    return FundPosition(
        contract=contract, area=listed[0] if len(listed) == 1 else None, start=start, end=end, premium_income=income,
        # the authority pays the premium for the whole contract: an area book has a received
        # figure only where receipts are booked to areas, never the contract's total or 0.00
        premium_received=_sum(receipts) if area_ids is None or received_by_area else None, deductions=deductions,
        fund=fund, claims_manual=manual, claims_instant=instant, claims_instant_verified=verified, recoveries=recoveries,
        medical_spend=spend, operating_cost=operating_cost, usable_income=usable, usage_rate=usage_rate,
        commitment_rate=terms.commitment_rate, loss_ratio=loss_ratio, hospital_payable=_sum(payables),
        hospital_paid=hospital_paid, usage=usage, warnings=warnings, basis=basis, areas=tuple(listed),
    )


def contract_year(contract: Contract) -> tuple[dt.date, dt.date]:
    """The contract year's period: the default period of a fund's figures on a page."""
    return contract.period_start, contract.period_end


def period_of(text: str | None) -> tuple[dt.date, dt.date] | None:
    """A period written as 2025, 2025-H1, 2025-Q4 or 2025-03 (the reports' forms); None when
    empty or not one of these (the page then reads each contract on its own year)."""
    # cycle: finance.forms -> services -> selectors import this module
    from .forms import period_bounds

    text = (text or "").strip().upper()
    if not text:
        return None
    kind = "annual" if len(text) == 4 else "quarterly" if "Q" in text else "semiannual" if "H" in text else "monthly"
    try:
        return period_bounds(kind, text)
    except ValidationError:
        return None


__all__ = ["BASES", "CASH", "CONTRACT", "basis_display", "clean_basis", "contract_year", "fund_figures",
           "period_display", "period_of"]

"""Statements and reports as plain tables (title, sections of rows, formula lines), built from
the ledgers and claims by the selectors. `documents.py` renders the same table as PDF and XLSX,
so both formats always show the same figures. Text is Chinese (built under zh-hans)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insurance_admin.core.money import fmt_money, fmt_share, percent
from programs.models import Area, Contract

from . import basis as fund_basis
from . import selectors
from .models import FinanceTerms, HospitalPayable, LedgerEntry, Penalty, PremiumInstallment

NIL = Decimal("0.00")

REPORT_KINDS = {
    "monthly": gettext_lazy("Monthly payment statement"),
    "quarterly": gettext_lazy("Quarterly fund-usage analysis"),
    "semiannual": gettext_lazy("Semi-annual operating report"),
    "annual": gettext_lazy("Annual summary"),
}


@dataclass
class Section:
    title: str
    headers: list[str]
    rows: list[list[object]]
    notes: list[str] = field(default_factory=list)


@dataclass
class Document:
    title: str
    meta: list[tuple[str, str]]
    sections: list[Section]
    formulas: list[str] = field(default_factory=list)
    filename: str = "document"


def _m(value) -> str:
    return "—" if value is None else fmt_money(value)


# --- clearing statement ---------------------------------------------------------------------


def clearing_lines(c) -> list[str]:
    """Every step of a clearing, in Chinese, with the figures (the pure function's result)."""
    lines = [
        _("Balance = fund − medical spend = %(fund)s − %(spend)s = %(balance)s") % {
            "fund": _m(c.fund), "spend": _m(c.medical_spend), "balance": _m(c.balance)},
        _("Balance rate = balance ÷ fund = %(balance)s ÷ %(fund)s = %(rate)s") % {
            "balance": _m(c.balance), "fund": _m(c.fund), "rate": c.rate_display},
    ]
    if c.balance >= 0:
        lines.append(_("Retention cap = %(limit)s × fund = %(limit)s × %(fund)s = %(cap)s") % {
            "limit": fmt_share(c.retention_limit), "fund": _m(c.fund), "cap": _m(c.retention_cap)})
        if c.returned_to_fund == 0:
            lines.append(_("Surplus rate %(rate)s ≤ %(limit)s (limit included): the insurer keeps the whole surplus %(kept)s; returned to the basic fund 0.00") % {
                "rate": c.rate_display, "limit": fmt_share(c.retention_limit), "kept": _m(c.insurer_kept)})
        else:
            lines.append(_("Surplus rate %(rate)s > %(limit)s: the insurer keeps the cap %(kept)s") % {
                "rate": c.rate_display, "limit": fmt_share(c.retention_limit), "kept": _m(c.insurer_kept)})
            lines.append(_("Returned to the basic fund = surplus − kept = %(surplus)s − %(kept)s = %(returned)s") % {
                "surplus": _m(c.surplus), "kept": _m(c.insurer_kept), "returned": _m(c.returned_to_fund)})
    else:
        lines.append(_("Overspend = medical spend − fund = %(overspend)s") % {"overspend": _m(c.overspend)})
        lines.append(_("Authority share = %(share)s × %(overspend)s = %(amount)s") % {
            "share": fmt_share(c.authority_loss_share), "overspend": _m(c.overspend), "amount": _m(c.authority_share)})
        lines.append(_("Insurer share (%(share)s) = overspend − authority share = %(overspend)s − %(authority)s = %(amount)s") % {
            "share": fmt_share(1 - c.authority_loss_share), "overspend": _m(c.overspend), "authority": _m(c.authority_share),
            "amount": _m(c.insurer_share)})
    return lines


def usage_lines(u) -> list[str]:
    lines = [
        _("Operating cost = %(rate)s × total financing %(financing)s = %(cost)s") % {
            "rate": fmt_share(u.operating_cost_rate), "financing": _m(u.total_financing), "cost": _m(u.operating_cost)},
        _("Usable income = income − operating cost = %(income)s − %(cost)s = %(usable)s") % {
            "income": _m(u.income), "cost": _m(u.operating_cost), "usable": _m(u.usable_income)},
        _("Usage rate = claims paid ÷ usable income = %(claims)s ÷ %(usable)s = %(rate)s") % {
            "claims": _m(u.claims_paid), "usable": _m(u.usable_income), "rate": u.usage_rate_display},
        _("Commitment = %(rate)s × %(usable)s = %(amount)s") % {
            "rate": fmt_share(u.commitment_rate), "usable": _m(u.usable_income), "amount": _m(u.commitment_amount)},
    ]
    if u.shortfall_carried:
        lines.append(_("Usage below the commitment: shortfall = commitment − claims paid = %(amount)s, carried to the rolling surplus") % {
            "amount": _m(u.shortfall_carried)})
    elif u.excess_over_usable:
        lines.append(_("Usage above 100%%: excess = %(excess)s; drawn from the rolling surplus %(drawn)s; not covered %(uncovered)s") % {
            "excess": _m(u.excess_over_usable), "drawn": _m(u.drawn_from_rolling_surplus), "uncovered": _m(u.uncovered_excess)})
    else:
        lines.append(_("Usage between the commitment and 100%: nothing carried or drawn"))
    lines.append(_("Rolling surplus = opening + carried − drawn = %(opening)s + %(carried)s − %(drawn)s = %(surplus)s") % {
        "opening": _m(u.opening_rolling_surplus), "carried": _m(u.shortfall_carried), "drawn": _m(u.drawn_from_rolling_surplus),
        "surplus": _m(u.new_rolling_surplus)})
    lines.append(_("Warning level = %(rate)s × last year's premium %(premium)s = %(level)s: %(verdict)s") % {
        "rate": fmt_share(u.warning_threshold), "premium": _m(u.last_year_premium), "level": _m(u.warning_amount),
        "verdict": _("below it — the financing level must be adjusted") if u.financing_adjustment_warning else _("not below it — no adjustment needed")})
    return lines


def _contract_meta(contract: Contract) -> list[tuple[str, str]]:
    return [
        (_("Contract"), contract.name),
        (_("Authority"), contract.authority.name),
        (_("Insurer"), contract.insurer.name),
        (_("Generated at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
    ]


def _clearing_basis() -> str:
    """The clearing reads the contract year's every record (claims by discharge date, whenever
    approved or paid; deductions and recoveries whenever imposed)."""
    return _("%(basis)s, every record of the contract years") % {"basis": fund_basis.BASES[fund_basis.CONTRACT]}


def clearing_document(contract: Contract, areas: list[Area] | None = None) -> Document:
    """The clearing statement of the whole pool; with `areas` (a county-bound reader's county
    books) only those books, without the pool's total, result and formulas, which hold the
    other counties' figures."""
    if areas is not None:
        return _county_clearing_document(contract, areas)
    with translation.override("zh-hans"):
        statement = selectors.clearing_statement(contract)
        sections: list[Section] = []
        formulas: list[str] = []
        if statement.kind == FinanceTerms.Clearing.CYCLE:
            title = _("Service-cycle clearing statement")
            # a county book without allocated premium shows "—", not a fund of 0.00 and a
            # balance of minus its spend; the city-level line carries its premium instead
            rows = [[label, fund, spend, None if fund is None else fund - spend]
                    for label, fund, spend in statement.books]
            if rows:
                rows.append([_("Total (city-level pooling)"), statement.total_fund, statement.total_spend,
                             statement.total_fund - statement.total_spend])
            sections.append(Section(_("Books pooled"), [_("Book"), _("Fund (premium − deductions)"),
                                                        _("Medical spend (claims − recoveries)"), _("Balance")], rows,
                                    [_("Premium income not allocated to these books (it is carried by the city-level "
                                       "line, so the total holds the whole fund): %(books)s") % {
                                        "books": "、".join(statement.missing)}]
                                    if statement.missing else []))
            c = statement.clearing
            if c is not None:
                sections.append(Section(_("Result"), [_("Item"), _("Amount / rate")], [
                    [_("Fund"), c.fund], [_("Medical spend"), c.medical_spend], [_("Balance"), c.balance],
                    [_("Balance rate"), c.rate_display], [_("Retention cap"), c.retention_cap],
                    [_("Kept by the insurer"), c.insurer_kept], [_("Returned to the basic fund"), c.returned_to_fund],
                    [_("Overspend"), c.overspend], [_("Borne by the authority"), c.authority_share],
                    [_("Borne by the insurer"), c.insurer_share],
                ]))
                formulas = clearing_lines(c)
            period = f"{contract.service_cycle_start:%Y-%m-%d} – {contract.service_cycle_end:%Y-%m-%d}"
            years = "、".join(str(c.year) for c in statement.contracts)
            meta = [(_("Service cycle"), period), (_("Contract years included"), years)]
            meta.append((_("Basis of the figures"), _clearing_basis()))
        elif statement.kind == FinanceTerms.Clearing.YEARLY_USAGE:
            title = _("Yearly fund-usage and rolling-surplus statement")
            u = statement.usage
            meta = [(_("Contract year"), str(contract.year)), (_("Basis of the figures"), _clearing_basis())]
            if u is not None:
                sections.append(Section(_("Result"), [_("Item"), _("Amount / rate")], [
                    [_("Income"), u.income], [_("Operating cost"), u.operating_cost], [_("Usable income"), u.usable_income],
                    [_("Claims paid"), u.claims_paid], [_("Usage rate"), u.usage_rate_display],
                    [_("Commitment"), u.commitment_amount], [_("Carried to the rolling surplus"), u.shortfall_carried],
                    [_("Drawn from the rolling surplus"), u.drawn_from_rolling_surplus],
                    [_("Rolling surplus"), u.new_rolling_surplus], [_("Warning level"), u.warning_amount],
                ]))
                formulas = usage_lines(u)
        else:
            title = _("Clearing statement")
            meta = []
            formulas = [_("This contract has no clearing rule.")]
        return Document(title=title, meta=_contract_meta(contract) + meta, sections=sections, formulas=formulas,
                        filename=f"clearing-{contract.code}")


def _county_clearing_document(contract: Contract, areas: list[Area]) -> Document:
    with translation.override("zh-hans"):
        statement = selectors.clearing_statement(contract)
        names = {a.name for a in areas if a != contract.program.region}
        sections: list[Section] = []
        if statement.kind == FinanceTerms.Clearing.CYCLE:
            title = _("Service-cycle clearing statement")
            rows = [[label, fund, spend, None if fund is None else fund - spend]
                    for label, fund, spend in statement.books if label in names]
            missing = [m for m in statement.missing if m.split(" ", 1)[-1] in names]
            notes = [_("Premium income not allocated to these books (it is carried by the city-level line, so the "
                       "total holds the whole fund): %(books)s") % {"books": "、".join(missing)}] if missing else []
            sections.append(Section(_("Books pooled"), [_("Book"), _("Fund (premium − deductions)"),
                                                        _("Medical spend (claims − recoveries)"), _("Balance")], rows, notes))
            period = f"{contract.service_cycle_start:%Y-%m-%d} – {contract.service_cycle_end:%Y-%m-%d}"
            meta = [(_("Service cycle"), period), (_("Contract years included"), "、".join(str(c.year) for c in statement.contracts))]
            meta.append((_("Basis of the figures"), _clearing_basis()))
        elif statement.kind == FinanceTerms.Clearing.YEARLY_USAGE:
            title, meta = _("Yearly fund-usage and rolling-surplus statement"), [(_("Contract year"), str(contract.year))]
        else:
            title, meta = _("Clearing statement"), []
        meta.append((_("Area"), "、".join(sorted(names)) or contract.program.region.name))
        formulas = [_("Only the books of your areas are shown. The pooled total, the clearing result and its formulas "
                      "are computed on the whole region's pool (%(region)s) and shown to its users.") % {
            "region": contract.program.region.name}]
        codes = "-".join(sorted(a.code for a in areas))
        return Document(title=title, meta=_contract_meta(contract) + meta, sections=sections, formulas=formulas,
                        filename=f"clearing-{contract.code}-{codes}")


# --- periodic reports -----------------------------------------------------------------------


def _position_rows(position) -> list[list[object]]:
    return [
        [_("Premium income"), _m(position.premium_income)], [_("Premium received"), _m(position.premium_received)],
        [_("Assessment deductions"), _m(position.deductions)], [_("Recoveries"), _m(position.recoveries)],
        [_("Claims paid (manual)"), _m(position.claims_manual)], [_("Claims paid (instant)"), _m(position.claims_instant)],
        [_("Medical spend"), _m(position.medical_spend)], [_("Operating cost"), _m(position.operating_cost)],
        [_("Usage rate"), position.usage_rate_display], [_("Loss ratio"), position.loss_ratio_display],
    ]


def _claims_by_area(contract: Contract, area_ids, start: dt.date, end: dt.date, basis: str) -> list[list[object]]:
    """[area, manual count, manual amount, instant count, instant amount, total] per area of the
    period on `basis` (the same records `basis.fund_figures` sums)."""
    by_area: dict[str, list] = {}
    if basis == fund_basis.CASH:
        entries = fund_basis.claim_payment_entries(contract, area_ids, start, end)
        for row in entries.values("area__name", "book").annotate(n=Count("claim", distinct=True), s=Sum("amount")):
            amount = (row["s"] or NIL) * (-1 if row["book"] == LedgerEntry.Book.REVOLVING else 1)
            cell = by_area.setdefault(row["area__name"], [0, NIL, 0, NIL])
            cell[0] += row["n"]
            cell[1] += amount
        hospital = fund_basis.hospital_payment_entries(contract, area_ids, start, end)
        for row in hospital.values("area__name").annotate(n=Count("id"), s=Sum("amount")):
            by_area.setdefault(row["area__name"], [0, NIL, 0, NIL])[2:4] = [row["n"], row["s"] or NIL]
    else:
        claims = fund_basis.manual_claims(contract, area_ids, start, end)
        for row in claims.values("area__name").annotate(n=Count("id"), s=Sum("payable")):
            by_area.setdefault(row["area__name"], [0, NIL, 0, NIL])[0:2] = [row["n"], row["s"] or NIL]
        settlements = fund_basis.instant_settlements(contract, area_ids, start, end)
        for row in settlements.values("area__name").annotate(n=Count("id"), mi=Sum("hifmi_pay"), ob=Sum("hifob_pay")):
            by_area.setdefault(row["area__name"], [0, NIL, 0, NIL])[2:4] = [row["n"], (row["mi"] or NIL) + (row["ob"] or NIL)]
    rows = [[name, v[0], v[1].quantize(NIL), v[2], v[3].quantize(NIL), (v[1] + v[3]).quantize(NIL)]
            for name, v in sorted(by_area.items())]
    if rows:
        rows.append([_("Total"), sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[3] for r in rows),
                     sum(r[4] for r in rows), sum(r[5] for r in rows)])
    return rows


def report_document(kind: str, contract: Contract, area: Area | None, start: dt.date, end: dt.date,
                    basis: str = "contract") -> Document:
    """Monthly payment statement, quarterly fund-usage analysis, semi-annual operating report,
    annual summary: the period's figures plus the year-to-date position at its end, on one
    basis (`finance.basis`: the contract year by discharge date, or cash by booking date) —
    the figures `basis.fund_figures` gives the dashboard for the same basis and period. Nothing
    dated after the period's end is counted (a receipt, a payment or a status of an
    installment is read as it stood at the end of the period)."""
    basis = fund_basis.clean_basis(basis)
    with translation.override("zh-hans"):
        area_ids = selectors.area_ids_of(area) if area is not None and area != contract.program.region else None
        sections: list[Section] = []
        stated = f"{fund_basis.basis_display(basis)}；{fund_basis.period_display(start, end)}"

        # premium: installments and receipts belong to the whole contract, never to a county;
        # a county report shows them under the region's name and says so. Receipts are cash:
        # read by booking date on either basis, as they stood at the period's end.
        installments = PremiumInstallment.objects.filter(contract=contract).annotate(
            received_by_end=Sum("entries__amount", filter=Q(entries__booked_on__lte=end))).order_by("seq")
        receipts = LedgerEntry.objects.filter(contract=contract, book=LedgerEntry.Book.PREMIUM, booked_on__range=(start, end))
        received = _m(receipts.aggregate(s=Sum("amount"))["s"] or NIL)
        region = contract.program.region.name
        if area_ids is None:
            premium_title = _("Premium installments")
            premium_note = _("Received in the period: %(amount)s") % {"amount": received}
        else:
            premium_title = _("Premium installments of the whole contract (%(region)s)") % {"region": region}
            premium_note = _("Received in the period for the whole contract (%(region)s, not allocated to %(area)s): %(amount)s") % {
                "region": region, "area": area.name, "amount": received}
        as_of = _("Received and outstanding as at %(date)s (receipts by booking date).") % {"date": end.isoformat()}
        sections.append(Section(premium_title, [_("No."), _("Kind"), _("Due date"), _("Amount"), _("Withheld"),
                                                _("Received by the period end"), _("Outstanding at the period end")],
                                [[i.seq, i.get_kind_display(), i.due_date.isoformat() if i.due_date else "—", i.amount, i.withheld,
                                  (i.received_by_end or NIL).quantize(NIL), (i.cash_due - (i.received_by_end or NIL)).quantize(NIL)]
                                 for i in installments],
                                [premium_note, as_of]))

        # the period's figures on the basis: the same selector as the dashboard
        period = fund_basis.fund_figures(contract, area, start, end, basis)
        sections.append(Section(_("Fund figures of the period"), [_("Item"), _("Amount / rate")], _position_rows(period),
                                [stated]))

        # claims of the period, by area
        claims_title = _("Claims of the period (by discharge date)") if basis == fund_basis.CONTRACT \
            else _("Claims paid in the period (by booking date)")
        sections.append(Section(claims_title, [_("Area"), _("Manual claims"), _("Manual amount"),
                                               _("Instant settlements"), _("Instant amount"), _("Total")],
                                _claims_by_area(contract, area_ids, start, end, basis)))

        # hospital payables of the period's months, paid as at the period's end
        payables = HospitalPayable.objects.filter(contract=contract, period__range=(start.replace(day=1), end)).select_related("area")
        if area_ids is not None:
            payables = payables.filter(area_id__in=area_ids)
        payables = payables.annotate(paid_by_end=Sum("entries__amount", filter=Q(entries__booked_on__lte=end))).order_by(
            "period", "area__code", "fixmedins_code", "id")
        sections.append(Section(_("Hospital payables"), [_("Month"), _("Area"), _("Hospital"), _("Amount payable"),
                                                         _("Paid by the period end"), _("Outstanding at the period end"),
                                                         _("Due date")],
                                [[p.period.strftime("%Y-%m"), p.area.name, p.fixmedins_name, p.amount, (p.paid_by_end or NIL).quantize(NIL),
                                  (p.amount - (p.paid_by_end or NIL)).quantize(NIL), p.due_date.isoformat() if p.due_date else "—"]
                                 for p in payables]))

        if kind in ("semiannual", "annual"):
            movements = LedgerEntry.objects.filter(contract=contract, booked_on__range=(start, end)).exclude(
                book__in=[LedgerEntry.Book.PREMIUM, LedgerEntry.Book.HOSPITAL])
            movements_title = _("Deposits, revolving fund, pre-payment and penalties")
            if area_ids is not None:
                movements_title = _("%(title)s of the whole contract (%(region)s)") % {"title": movements_title, "region": region}
            sections.append(Section(movements_title,
                                    [_("Date"), _("Book"), _("Kind"), _("Amount"), _("Memo")],
                                    [[e.booked_on.isoformat(), e.get_book_display(), e.get_kind_display(), e.amount, e.memo_display]
                                     for e in movements.order_by("booked_on", "id")],
                                    [_("Ledger entries by booking date.")]))
            penalties = Penalty.objects.filter(contract=contract, imposed_on__range=(start, end))
            if area_ids is not None:
                penalties = penalties.filter(area_id__in=area_ids)
            penalties = penalties.annotate(settled_by_end=Sum("entries__amount", filter=Q(entries__booked_on__lte=end))).order_by(
                "imposed_on", "id")
            sections.append(Section(_("Penalties imposed"), [_("Date"), _("Kind"), _("Amount"), _("Settled by the period end"),
                                                             _("Reason")],
                                    [[p.imposed_on.isoformat(), p.get_kind_display(), p.amount, (p.settled_by_end or NIL).quantize(NIL), p.reason]
                                     for p in penalties]))

        # year-to-date position at the end of the period, on the same basis
        year_start = contract.period_start
        position = fund_basis.fund_figures(contract, area, year_start, end, basis)
        formulas = []
        if kind != "monthly":
            notes = [f"{fund_basis.basis_display(basis)}；{fund_basis.period_display(year_start, end)}"]
            if area_ids is not None and (position.premium_income is None or position.premium_received is None):
                notes.append(_("—: the premium is computed and received for the whole contract (%(region)s) and not "
                               "allocated to %(area)s; see the clearing statement's city-level line.") % {
                    "region": contract.program.region.name, "area": area.name})
            sections.append(Section(_("Fund position, year to date"), [_("Item"), _("Amount / rate")], _position_rows(position),
                                    notes))
            if position.usage is not None:
                formulas = usage_lines(position.usage)
            elif position.usable_income:
                formulas = [_("Usage rate = medical spend ÷ usable income = %(spend)s ÷ %(usable)s = %(rate)s") % {
                    "spend": _m(position.medical_spend), "usable": _m(position.usable_income),
                    "rate": percent(position.usage_rate) if position.usage_rate is not None else "—"}]
        title = str(REPORT_KINDS[kind])
        meta = _contract_meta(contract) + [
            (_("Area"), area.name if area is not None else contract.program.region.name),
            (_("Report period"), f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"),
            (_("Basis of the figures"), str(fund_basis.BASES[basis])),
        ]
        suffix = f"-{area.code}" if area is not None else ""
        return Document(title=title, meta=meta, sections=sections, formulas=formulas,
                        filename=f"{kind}-{contract.code}{suffix}{'-cash' if basis == fund_basis.CASH else ''}-{start:%Y%m%d}")

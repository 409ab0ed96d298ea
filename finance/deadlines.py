"""The deadline records of finance rows (DOMAIN.md §5, §6), derived from the rows themselves:
the due dates the services computed from the contract's terms, and whether the ledger shows the
obligation met. `sync` is called by `finance.services` inside the transaction that saved the
row or booked the entry (`_save`, `_book`), so a receipt that completes an installment meets its
deadline at once and a reversal re-opens it. No contract-specific code: a new contract's rows
get their deadlines the same way.

What meets what:
- premium installment: its cash due (amount − withheld) received in full;
- hospital payable: paid in full;
- revolving fund opening: the opening amount paid in; a monthly top-up: its payment booked
  (due at the end of the month after the month it restores; a zero top-up owes nothing);
- pre-payment: paid in full; its return: returned in full;
- deposit return (due once the cases are closed without objection): nothing held any more;
- service window set-up (the terms' working days after signing): its "set up on" date recorded;
- annual audit (the end of the terms' month in the year after the insurance year): its "done
  on" date recorded.
A premium installment of a contract whose terms say unpaid premium suspends the insurer's
liability carries that consequence: while it is overdue the calendar shows the liability
suspended.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Q, Sum
from django.urls import reverse

from insurance_admin.core.deadlines import Met, deadline_track
from insurance_admin.core.models import Deadline
from insurance_admin.core.workdays import load_calendar

from .models import (
    FinanceTerms,
    GuaranteeDeposit,
    HospitalPayable,
    LedgerEntry,
    PremiumInstallment,
    Prepayment,
    RevolvingFund,
    RevolvingTopUp,
)
from .selectors import terms_for

ROLE = "finance"
ZERO = Decimal("0.00")
E = LedgerEntry.Kind


def _contract_link(contract) -> str:
    return reverse("finance:contract", args=[contract.code])


def _booked(obj, kinds: list[str]) -> tuple[Decimal, dt.date | None]:
    """Σ and last date of the row's entries of these kinds, net of their reversals."""
    got = obj.entries.filter(Q(kind__in=kinds) | Q(kind=E.REVERSAL, reverses__kind__in=kinds)).aggregate(
        total=Sum("amount"), last=Max("booked_on"))
    return got["total"] or ZERO, got["last"]


def _common(contract) -> dict:
    return {"contract_id": contract.pk, "area_id": contract.program.region_id, "role": ROLE, "link": _contract_link(contract)}


def installment_sync(inst: PremiumInstallment, user=None) -> None:
    cash_due = inst.amount - inst.withheld
    met = None
    if cash_due > 0 and inst.received >= cash_due:
        _total, last = _booked(inst, [E.RECEIPT])
        met = Met(on=last or inst.due_date, what="premium received in full", by=user)
    deadline_track(kind="premium_installment", obj=inst, due_date=inst.due_date if cash_due > 0 else None,
                   label=f"{inst.contract.code} #{inst.seq}", rule=inst.description, met=met, **_common(inst.contract),
                   consequence=Deadline.Consequence.LIABILITY_SUSPENDED if terms_for(inst.contract).unpaid_suspends_liability else "")


def payable_sync(payable: HospitalPayable, user=None) -> None:
    met = None
    if payable.amount > 0 and payable.paid >= payable.amount:
        _total, last = _booked(payable, [E.PAYMENT])
        met = Met(on=last or payable.due_date, what="hospital paid in full", by=user)
    common = _common(payable.contract) | {"area_id": payable.area_id}
    deadline_track(kind="hospital_payment", obj=payable, due_date=payable.due_date if payable.amount > 0 else None,
                   label=f"{payable.fixmedins_name} {payable.period:%Y-%m}", rule=payable.reference, met=met, **common)


def fund_sync(fund: RevolvingFund, user=None, entry_kind: str | None = None) -> None:
    """The opening's deadline and the top-ups'. A debit (a claim paid from the fund, the
    frequent movement) meets or re-opens none of them: nothing to do."""
    if entry_kind == E.DEBIT:
        return
    paid, last = _booked(fund, [E.OPENING])
    met = Met(on=last, what="opening amount paid in", by=user) if fund.opening_amount > 0 and paid >= fund.opening_amount else None
    deadline_track(kind="revolving_opening", obj=fund, due_date=fund.due_date if fund.opening_amount > 0 else None,
                   label=fund.contract.code, rule=fund.basis, met=met, **_common(fund.contract))
    if entry_kind in (None, E.TOPUP, E.REVERSAL):
        for topup in fund.topups.all():
            topup_sync(topup, user=user, fund=fund)


def topup_due(month: dt.date) -> dt.date:
    """A month's top-up restores the fund during the following month: due on its last day."""
    first_after_next = (month.replace(day=1) + dt.timedelta(days=62)).replace(day=1)
    return first_after_next - dt.timedelta(days=1)


def topup_sync(topup: RevolvingTopUp, user=None, fund: RevolvingFund | None = None) -> None:
    fund = fund or topup.fund
    reference = f"topup-{topup.fund_id}-{topup.month:%Y-%m}"
    entry = LedgerEntry.objects.filter(book=LedgerEntry.Book.REVOLVING, reference=reference, reversed_by__isnull=True).first()
    met = Met(on=entry.booked_on, what="top-up paid in", by=user) if entry is not None else None
    deadline_track(kind="revolving_topup", obj=topup, due_date=topup_due(topup.month) if topup.amount > 0 else None,
                   label=f"{fund.contract.code} {topup.month:%Y-%m}", rule=f"top-up {topup.amount}", met=met,
                   **_common(fund.contract))


def prepayment_sync(prepayment: Prepayment, user=None) -> None:
    paid, paid_last = _booked(prepayment, [E.PAID_IN])
    returned, returned_last = _booked(prepayment, [E.RETURNED])
    common = _common(prepayment.contract)
    code = prepayment.contract.code
    pay_met = Met(on=paid_last, what="pre-payment paid in full", by=user) if prepayment.amount > 0 and paid >= prepayment.amount else None
    deadline_track(kind="prepayment", obj=prepayment, due_date=prepayment.due_date if prepayment.amount > 0 else None,
                   label=code, working_days=True, provisional=prepayment.due_date_provisional, rule=prepayment.basis,
                   met=pay_met, **common)
    back_met = None
    if prepayment.amount > 0 and -returned >= prepayment.amount:
        back_met = Met(on=returned_last, what="pre-payment returned in full", by=user)
    deadline_track(kind="prepayment_return", obj=prepayment, due_date=prepayment.return_due if prepayment.amount > 0 else None,
                   label=code, rule=prepayment.basis, met=back_met, **common)


def deposit_sync(deposit: GuaranteeDeposit, user=None) -> None:
    met = None
    if deposit.return_due is not None and deposit.held <= 0:
        _total, last = _booked(deposit, [E.RETURNED, E.FORFEITED])
        met = Met(on=last or deposit.cases_closed_on, what="deposit returned", by=user)
    deadline_track(kind="deposit_return", obj=deposit, due_date=deposit.return_due,
                   label=f"{deposit.contract.code} {deposit.kind}", rule=deposit.basis, met=met, **_common(deposit.contract))


def _last_day_of_month(year: int, month: int) -> dt.date:
    first_next = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def terms_sync(terms: FinanceTerms, user=None) -> None:
    """The one-off obligations the contract's terms set: the service window set-up (working days
    after signing; not known while the signing date is not on file) and the annual audit (end
    of the terms' month in the year after the insurance year)."""
    contract = terms.contract
    common = _common(contract)
    due, provisional = None, False
    if terms.service_window_working_days is not None and contract.signed_on is not None:
        counted = load_calendar().add_working_days(contract.signed_on, terms.service_window_working_days)
        due, provisional = counted.date, counted.provisional
    ready = terms.service_window_ready_on
    deadline_track(
        kind="service_window", obj=terms, due_date=due, label=contract.code, working_days=True, provisional=provisional,
        rule=f"service window within {terms.service_window_working_days} working days of signing",
        met=Met(on=ready, what="service window set up", by=user) if ready else None, **(common | {"role": "administrator"}))
    audit_due = _last_day_of_month(contract.year + 1, terms.annual_audit_month) if terms.annual_audit_month else None
    done = terms.annual_audit_done_on
    deadline_track(
        kind="annual_audit", obj=terms, due_date=audit_due, label=f"{contract.code} {contract.year}",
        rule=f"annual audit of {contract.year} by the end of month {terms.annual_audit_month} of the next year",
        met=Met(on=done, what="annual audit done", by=user) if done else None, **common)


SYNC = {
    FinanceTerms: terms_sync,
    PremiumInstallment: installment_sync,
    HospitalPayable: payable_sync,
    RevolvingFund: fund_sync,
    RevolvingTopUp: topup_sync,
    Prepayment: prepayment_sync,
    GuaranteeDeposit: deposit_sync,
}


def sync(obj, *, user=None, entry_kind: str | None = None) -> None:
    """Bring the deadline records of a finance row in step with it (rows without obligations
    are ignored); `entry_kind` is the ledger entry just booked against it, if any."""
    func = SYNC.get(type(obj))
    if func is fund_sync:
        fund_sync(obj, user=user, entry_kind=entry_kind)
    elif func is not None:
        func(obj, user=user)


def finance_deadlines_backfill() -> int:
    """Derive the deadline records of every existing finance row (idempotent)."""
    count = 0
    for model in (FinanceTerms, PremiumInstallment, HospitalPayable, RevolvingFund, Prepayment, GuaranteeDeposit):
        for obj in model.objects.select_related("contract__program").iterator(chunk_size=2000):
            with transaction.atomic():
                sync(obj)
            count += 1
    return count

"""Writes of the finance app. Every money movement goes through `_book`, which locks the row
whose balance moves, appends one `LedgerEntry` and adds its amount to the row's cached balance
in the same transaction: the balance is always the sum of the row's entries (`finance_check`).

Formulas come from `finance.calculations` (pure); these functions load, call, store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from claims.imports import payment_due_for
from claims.workflow import claim_payment_reversed
from insurance_admin.core.money import fmt_money, fmt_share, share_of, to_amount
from insurance_admin.core.workdays import load_calendar
from programs.models import Area, Contract

from . import calculations as calc
from . import deadlines
from .calculations.penalties import CONFIDENTIALITY_BREACH_RATE, EARLY_TERMINATION_RATE
from .models import (
    ClaimsBook,
    GuaranteeDeposit,
    HeadcountChange,
    HospitalPayable,
    LedgerEntry,
    Penalty,
    PremiumInstallment,
    PremiumSchedule,
    Prepayment,
    RevolvingFund,
    RevolvingTopUp,
    installment_rules_problem,
)
from .selectors import current_headcounts, per_capita_of, terms_for

#: the cached balance column of each book's target row
BALANCE_FIELD = {
    LedgerEntry.Book.PREMIUM: "received",
    LedgerEntry.Book.DEPOSIT: "held",
    LedgerEntry.Book.REVOLVING: "balance",
    LedgerEntry.Book.PREPAYMENT: "outstanding",
    LedgerEntry.Book.PENALTY: "settled",
    LedgerEntry.Book.HOSPITAL: "paid",
    LedgerEntry.Book.CLAIMS: "paid",
}
BOOK_OF_MODEL = {
    PremiumInstallment: LedgerEntry.Book.PREMIUM,
    GuaranteeDeposit: LedgerEntry.Book.DEPOSIT,
    RevolvingFund: LedgerEntry.Book.REVOLVING,
    Prepayment: LedgerEntry.Book.PREPAYMENT,
    Penalty: LedgerEntry.Book.PENALTY,
    HospitalPayable: LedgerEntry.Book.HOSPITAL,
    ClaimsBook: LedgerEntry.Book.CLAIMS,
}


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The calendar-table working days, in the form the pure schedule functions take."""
    return load_calendar().add_working_days(start, days).date


def _positive(amount: Decimal, field: str = "amount") -> Decimal:
    amount = to_amount(amount, field)
    if amount <= 0:
        raise ValidationError({field: _("The amount must be greater than zero.")})
    return amount


def _save(obj, user, reason: str) -> None:
    obj.full_clean()
    obj._history_user = user
    obj._change_reason = reason
    obj.save()
    deadlines.sync(obj, user=user)


def _relations(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.is_relation]


def _lock(obj):
    return type(obj).objects.select_for_update().get(pk=obj.pk)


def _book(target, *, kind: str, amount: Decimal, booked_on: dt.date, user, reference: str = "", memo: str = "",
          reverses: LedgerEntry | None = None, claim=None, area: Area | None = None) -> LedgerEntry:
    """Append one entry against `target` (already locked by the caller) and move its balance."""
    book = BOOK_OF_MODEL[type(target)]
    field = BALANCE_FIELD[book]
    entry = LedgerEntry(
        contract_id=target.contract_id,
        area=area if area is not None else getattr(target, "area", None),
        book=book,
        kind=kind,
        amount=amount,
        booked_on=booked_on,
        reference=reference,
        memo=memo,
        reverses=reverses,
        claim=claim,
        created_by=user,
        **{LedgerEntry.TARGETS[book]: target},
    )
    # Relations are set by the services themselves (and enforced by the database): validating
    # them again costs one query each on the hottest path, so only values and constraints are.
    entry.full_clean(exclude=_relations(LedgerEntry))
    setattr(target, field, getattr(target, field) + amount)
    try:
        target.full_clean(exclude=_relations(type(target)), validate_unique=False)
    except ValidationError as exc:
        setattr(target, field, getattr(target, field) - amount)
        raise ValidationError(_("This movement would break the balance rules: %(msg)s") % {"msg": "; ".join(exc.messages)}) from None
    entry.save()
    # F() so that the stored balance is the database's own sum even if the object was stale
    type(target).objects.filter(pk=target.pk).update(**{field: F(field) + amount})
    target.refresh_from_db(fields=[field])
    deadlines.sync(target, user=user, entry_kind=kind)
    return entry


@transaction.atomic
def ledger_entry_reverse(*, entry: LedgerEntry, reason: str, user, booked_on: dt.date | None = None) -> LedgerEntry:
    """Correct an entry: a new entry of the opposite amount linked to it (at most one)."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the entry is reversed.")})
    if entry.kind == LedgerEntry.Kind.REVERSAL:
        raise ValidationError(_("A reversal cannot itself be reversed; book the movement again."))
    target = _lock(entry.target)
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("This entry has already been reversed."))
    reversal = _book(
        target, kind=LedgerEntry.Kind.REVERSAL, amount=-entry.amount, booked_on=booked_on or timezone.localdate(),
        user=user, memo=reason.strip()[:300], reverses=entry, claim=entry.claim, area=entry.area,
    )
    if entry.claim_id is not None and entry.kind in CLAIM_PAYMENT_KINDS:
        # the claim's payment is undone: the claim is approved (unpaid) again, in this transaction
        claim_payment_reversed(claim=entry.claim, user=user, reason=reason)
    return reversal


# --- premiums -------------------------------------------------------------------------------


def _plan(contract: Contract) -> calc.PremiumPlan:
    """The contract's premium installments from its terms (`InstallmentRule` rows), refused
    with the reason when they do not make a schedule."""
    terms = terms_for(contract)
    rules = list(terms.installment_rules.order_by("seq")) if terms.pk else []
    if not rules:
        raise ValidationError(_("No premium installment rules are on file for this contract (finance terms)."))
    problem = installment_rules_problem(rules)
    if problem:
        raise ValidationError(problem)
    notes = tuple(line for line in terms.premium_notes.splitlines() if line.strip())
    return calc.PremiumPlan(rules=tuple(rule.as_rule() for rule in rules), notes=notes)


def _per_capita(contract: Contract) -> dict[str, Decimal]:
    per_capita = per_capita_of(contract)
    if not per_capita:
        raise ValidationError(_("No per-capita premium is on file for this contract (premium rates)."))
    return per_capita


def _clean_headcounts(per_capita: Mapping[str, Decimal], headcounts: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    result = {}
    for area_code, counts in headcounts.items():
        if area_code and not Area.objects.filter(code=area_code).exists():
            raise ValidationError(_("Unknown area %(code)s.") % {"code": area_code})
        unknown = sorted(set(counts) - set(per_capita))
        if unknown:
            raise ValidationError(_("No per-capita premium for %(cats)s.") % {"cats": ", ".join(unknown)})
        result[area_code] = {cat: int(n) for cat, n in counts.items()}
    return result


def premium_of(per_capita: Mapping[str, Decimal], headcounts: Mapping[str, Mapping[str, int]]) -> Decimal:
    """Σ over area books of the book's premium (each exact: per-capita has 2 dp, counts are whole)."""
    return sum((calc.headcount_premium(per_capita, counts) for counts in headcounts.values()), Decimal("0.00"))


def default_headcounts(contract: Contract) -> dict[str, dict[str, int]] | None:
    """The contract's own headcount for a single-category premium (Tongliao, Beijing)."""
    per_capita = per_capita_of(contract)
    if contract.headcount is not None and len(per_capita) == 1:
        return {"": {next(iter(per_capita)): contract.headcount}}
    return None


@transaction.atomic
def premium_schedule_generate(*, contract: Contract, user, headcounts: Mapping[str, Mapping[str, int]] | None = None,
                              event_dates: Mapping[str, dt.date] | None = None) -> PremiumSchedule:
    """Persist the contract's premium schedule from its terms (once; later changes go through
    `premium_headcount_change`). `headcounts` is {area code or "": {category: count}}; without
    it the contract's own headcount is used where the premium has a single category."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if PremiumSchedule.objects.filter(contract=contract).exists():
        raise ValidationError(_("The premium schedule of this contract exists already; record a headcount change instead."))
    per_capita = _per_capita(contract)
    headcounts = headcounts if headcounts is not None else default_headcounts(contract)
    if not headcounts:
        raise ValidationError({"headcounts": _("Enter the headcounts the premium is computed on.")})
    headcounts = _clean_headcounts(per_capita, headcounts)
    total = premium_of(per_capita, headcounts)
    plan = _plan(contract)
    events = {k: v for k, v in (event_dates or {}).items() if v}
    installments = calc.premium_schedule(
        total, plan.rules, contract.signed_on, contract.year, add_working_days, event_dates=events
    )
    # the guarantee deposit the contract's finance terms withhold from the premium (Zhenping's
    # contract deposit, Taikang's annual deposit: 10 % of the year's fund), as data
    terms = terms_for(contract)
    withholding = calc.deposit_withholding(installments, terms.deposit_share) \
        if terms.deposit_share and terms.deposit_withheld else None
    schedule = PremiumSchedule(
        contract=contract,
        per_capita={k: str(v) for k, v in per_capita.items()},
        headcounts=headcounts,
        total=total,
        event_dates={k: v.isoformat() for k, v in events.items()},
        notes="\n".join(plan.notes),
        created_by=user,
    )
    _save(schedule, user, "premium schedule generated")
    for inst in installments:
        withheld = Decimal("0.00")
        if withholding is not None:
            withheld = next((d.amount for d in withholding.deductions if d.seq == inst.seq), withheld)
        row = PremiumInstallment(
            schedule=schedule, contract=contract, seq=inst.seq, kind=PremiumInstallment.Kind.SCHEDULED, share=inst.share,
            amount=inst.amount, withheld=withheld, due_date=inst.due_date, description=inst.description[:400],
        )
        _save(row, user, "premium schedule generated")
    if withholding is not None:
        deposit = GuaranteeDeposit(contract=contract, kind=terms.deposit_kind or GuaranteeDeposit.Kind.CONTRACT,
                                   required=withholding.amount, basis=withholding.description[:300])
        _save(deposit, user, "withheld from the premium")
        _book(deposit, kind=LedgerEntry.Kind.WITHHELD, amount=withholding.amount,
              booked_on=timezone.localdate(), user=user, memo=withholding.description[:300])
    elif terms.deposit_share:
        # required with the schedule, held as the insurer pays it in (`deposit_record_payment`)
        required = share_of(total, terms.deposit_share)
        deposit = GuaranteeDeposit(
            contract=contract, kind=terms.deposit_kind or GuaranteeDeposit.Kind.CONTRACT, required=required,
            basis=f"deposit {fmt_share(terms.deposit_share)} of the year's fund {fmt_money(total)} = {fmt_money(required)}",
        )
        _save(deposit, user, "required with the premium schedule")
    deadlines.terms_sync(terms_for(contract), user=user)  # the one-off obligations of the terms
    return schedule


@transaction.atomic
def premium_event_record(*, contract: Contract, event: str, on_date: dt.date, user) -> PremiumSchedule:
    """Record an event a due date depends on (signing, fiscal funds arrived, invoice received)
    and fill in the due dates that were waiting for it; a due date once set is never changed."""
    schedule = PremiumSchedule.objects.select_for_update().get(contract=contract)
    events = {k: dt.date.fromisoformat(v) for k, v in schedule.event_dates.items()}
    if event in events and events[event] != on_date:
        raise ValidationError(_("This event is recorded already (%(date)s).") % {"date": events[event]})
    events[event] = on_date
    signed_on = contract.signed_on or events.get(calc.SIGNING)
    events.pop(calc.SIGNING, None)
    plan = _plan(contract)
    recomputed = calc.premium_schedule(schedule.total, plan.rules, signed_on, contract.year, add_working_days, event_dates=events)
    if signed_on:
        events[calc.SIGNING] = signed_on
    schedule.event_dates = {k: v.isoformat() for k, v in events.items()}
    _save(schedule, user, f"event {event} recorded")
    for inst in recomputed:
        row = PremiumInstallment.objects.select_for_update().get(contract=contract, seq=inst.seq, kind=PremiumInstallment.Kind.SCHEDULED)
        if row.due_date is None and inst.due_date is not None:
            row.due_date = inst.due_date
            _save(row, user, f"due date fixed by {event}")
    return schedule


@transaction.atomic
def premium_headcount_change(*, contract: Contract, headcounts: Mapping[str, Mapping[str, int]], effective_on: dt.date,
                             reason: str, user, due_date: dt.date | None = None) -> HeadcountChange:
    """Recompute the premium for new headcounts (provisional → final, new enrollees at the full
    premium, retirees at 0). History is kept: the difference becomes a new supplementary
    installment (or a refund item); no earlier installment is touched."""
    schedule = PremiumSchedule.objects.select_for_update().get(contract=contract)
    if not reason.strip():
        raise ValidationError({"reason": _("Say what changed the headcount.")})
    per_capita = {k: Decimal(v) for k, v in schedule.per_capita.items()}
    before = current_headcounts(schedule)
    after = _clean_headcounts(per_capita, headcounts)
    difference = premium_of(per_capita, after) - premium_of(per_capita, before)
    change = HeadcountChange(schedule=schedule, contract=contract, headcounts_before=before, headcounts_after=after,
                             difference=difference, effective_on=effective_on, reason=reason.strip()[:300], created_by=user)
    change.full_clean()
    change.save()
    if difference:
        seq = (schedule.installments.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
        kind = PremiumInstallment.Kind.SUPPLEMENTARY if difference > 0 else PremiumInstallment.Kind.REFUND
        words = "supplementary premium" if difference > 0 else "premium refund"
        row = PremiumInstallment(
            schedule=schedule, contract=contract, seq=seq, kind=kind, amount=abs(difference), due_date=due_date,
            headcount_change=change,
            description=f"{words} {fmt_money(abs(difference))} after the headcount change of {effective_on}: {reason.strip()}"[:400],
        )
        _save(row, user, words)
    return change


@transaction.atomic
def installment_record_receipt(*, installment: PremiumInstallment, amount: Decimal, received_on: dt.date, user,
                               reference: str = "", memo: str = "") -> LedgerEntry:
    """Credit a (partial) receipt to an installment. The row lock serialises concurrent receipts;
    the check constraint `installment_received_within_due` refuses an over-credit anyway."""
    amount = _positive(amount)
    installment = _lock(installment)
    if amount > installment.outstanding:
        raise ValidationError({"amount": _("Only %(left)s is still outstanding on this installment.") % {
            "left": fmt_money(installment.outstanding)}})
    return _book(installment, kind=LedgerEntry.Kind.RECEIPT, amount=amount, booked_on=received_on, user=user,
                 reference=reference, memo=memo)


# --- guarantee deposits ---------------------------------------------------------------------

DEPOSIT_RETURN_DAYS = 30


@transaction.atomic
def deposit_open(*, contract: Contract, kind: str, required: Decimal, basis: str, user) -> GuaranteeDeposit:
    deposit = GuaranteeDeposit(contract=contract, kind=kind, required=to_amount(required, "required"), basis=basis)
    _save(deposit, user, "deposit opened")
    return deposit


@transaction.atomic
def deposit_record_payment(*, deposit: GuaranteeDeposit, amount: Decimal, paid_on: dt.date, user, reference: str = "") -> LedgerEntry:
    return _book(_lock(deposit), kind=LedgerEntry.Kind.PAID_IN, amount=_positive(amount), booked_on=paid_on, user=user, reference=reference)


@transaction.atomic
def deposit_cases_closed(*, deposit: GuaranteeDeposit, closed_on: dt.date, objection: bool, user) -> GuaranteeDeposit:
    """The year's cases are closed: without objection the deposit is due back 30 days later."""
    deposit = _lock(deposit)
    deposit.cases_closed_on = closed_on
    deposit.objection = objection
    deposit.return_due = None if objection else closed_on + dt.timedelta(days=DEPOSIT_RETURN_DAYS)
    _save(deposit, user, "cases closed" + (" with objection" if objection else ""))
    return deposit


@transaction.atomic
def deposit_return(*, deposit: GuaranteeDeposit, amount: Decimal, returned_on: dt.date, user, reference: str = "") -> LedgerEntry:
    deposit = _lock(deposit)
    if deposit.objection:
        raise ValidationError(_("An objection is open on this deposit: it cannot be returned."))
    return _book(deposit, kind=LedgerEntry.Kind.RETURNED, amount=-_positive(amount), booked_on=returned_on, user=user, reference=reference)


@transaction.atomic
def deposit_forfeit(*, deposit: GuaranteeDeposit, amount: Decimal, on_date: dt.date, reason: str, user,
                    reference: str = "") -> LedgerEntry:
    """Part of the deposit kept by the authority after the assessment. `reference` links the
    entry to what caused it (an assessment of the supervision layer names itself there)."""
    if not reason.strip():
        raise ValidationError({"reason": _("Name the assessment that forfeits the deposit.")})
    return _book(_lock(deposit), kind=LedgerEntry.Kind.FORFEITED, amount=-_positive(amount), booked_on=on_date, user=user,
                 memo=reason.strip()[:300], reference=reference)


# --- revolving fund (Taikang) ---------------------------------------------------------------


@transaction.atomic
def revolving_fund_open(*, contract: Contract, last_year_income: Decimal, user) -> RevolvingFund:
    """The revolving fund of the contract's terms: its share of last year's income, due 01-10."""
    share = terms_for(contract).revolving_share
    if share is None:
        raise ValidationError(_("The contract's terms provide no revolving fund."))
    opening = calc.revolving_opening(last_year_income, contract.year, share=share)
    fund = RevolvingFund(contract=contract, last_year_income=to_amount(last_year_income, "last_year_income"),
                         opening_amount=opening.amount, due_date=opening.due_date, basis=opening.description[:300])
    _save(fund, user, "revolving fund opened")
    return fund


@transaction.atomic
def revolving_fund_record_opening(*, fund: RevolvingFund, amount: Decimal, paid_on: dt.date, user, reference: str = "") -> LedgerEntry:
    return _book(_lock(fund), kind=LedgerEntry.Kind.OPENING, amount=_positive(amount), booked_on=paid_on, user=user, reference=reference)


@transaction.atomic
def revolving_fund_debit(*, fund: RevolvingFund, amount: Decimal, paid_on: dt.date, user, memo: str, claim=None,
                         area: Area | None = None, reference: str = "") -> LedgerEntry:
    """A manual-claim payment or an out-of-area advance paid from the revolving fund."""
    if claim is not None and claim.contract_id != fund.contract_id:
        raise ValidationError(_("The claim belongs to another contract."))
    return _book(_lock(fund), kind=LedgerEntry.Kind.DEBIT, amount=-_positive(amount), booked_on=paid_on, user=user, memo=memo,
                 claim=claim, area=area or (claim.area if claim is not None else None), reference=reference)


#: the kinds of entry a claim payment books (revolving-fund debit, claims-book payment)
CLAIM_PAYMENT_KINDS = (LedgerEntry.Kind.DEBIT, LedgerEntry.Kind.PAYMENT)


def claim_payment_reference(claim, attempt: int = 1) -> str:
    """The key of a claim's payment entry: `claim-<id>` for the first payment, `claim-<id>-<n>`
    for the n-th after earlier ones were reversed (unique per book: never two live payments)."""
    return f"claim-{claim.pk}" if attempt == 1 else f"claim-{claim.pk}-{attempt}"


@transaction.atomic
def claim_payment_book(payment) -> LedgerEntry | None:
    """Book a claim payment (`claims.hooks.ClaimPayment`, called inside the claim's PAID
    transition) against the fund its contract's terms name: the revolving fund where the
    contract has one (Taikang: it pays manual claims), the contract's claims book otherwise.
    The entry carries the claim, the payment date, the voucher number and the payee account;
    its reversal (`ledger_entry_reverse`) restores the fund. A payable of 0 moves nothing."""
    claim = payment.claim
    amount = to_amount(payment.amount, "amount")
    if amount < 0:
        raise ValidationError(_("A claim payment cannot be negative."))
    if not amount:
        return None
    with translation.override(settings.LANGUAGE_CODE):  # stored text: the installation's language
        memo = _("Claim %(no)s paid to account %(account)s, voucher %(voucher)s") % {
            "no": claim.claim_no, "account": payment.payee_account, "voucher": payment.voucher_no}
    earlier = LedgerEntry.objects.filter(claim=claim, kind__in=CLAIM_PAYMENT_KINDS)
    if earlier.filter(reversed_by__isnull=True).exists():
        raise ValidationError(_("This claim's payment is booked already; reverse it before paying again."))
    fields = {"amount": amount, "paid_on": payment.paid_on, "user": payment.user, "claim": claim,
              "memo": memo[:300], "reference": claim_payment_reference(claim, earlier.count() + 1)}
    fund = RevolvingFund.objects.filter(contract_id=claim.contract_id).first()
    if fund is not None:
        return revolving_fund_debit(fund=fund, **fields)
    if terms_for(claim.contract).revolving_share is not None:
        raise ValidationError(_("The contract pays claims from its revolving fund, which is not opened yet."))
    book, _created = ClaimsBook.objects.get_or_create(contract_id=claim.contract_id)
    return _book(_lock(book), kind=LedgerEntry.Kind.PAYMENT, amount=fields["amount"], booked_on=payment.paid_on,
                 user=payment.user, reference=fields["reference"], memo=fields["memo"], claim=claim, area=claim.area)


def month_end(month: dt.date) -> dt.date:
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


@transaction.atomic
def revolving_topup_compute(*, fund: RevolvingFund, month: dt.date, user) -> RevolvingTopUp:
    """Compute (once per month) what restores the fund to its opening amount, from the balance of
    the entries booked up to the month's end."""
    fund = _lock(fund)
    month = month.replace(day=1)
    existing = RevolvingTopUp.objects.filter(fund=fund, month=month).first()
    if existing is not None:
        return existing
    balance = fund.entries.filter(booked_on__lte=month_end(month)).aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
    topup = RevolvingTopUp(fund=fund, contract=fund.contract, month=month, balance_at_month_end=balance,
                           amount=calc.revolving_topup(fund.opening_amount, balance))
    topup.full_clean()
    topup.save()
    deadlines.sync(topup, user=user)
    return topup


@transaction.atomic
def revolving_topup_record_payment(*, topup: RevolvingTopUp, paid_on: dt.date, user) -> LedgerEntry | None:
    """Book the computed top-up as paid in (idempotent: one entry per top-up)."""
    reference = f"topup-{topup.fund_id}-{topup.month:%Y-%m}"
    existing = LedgerEntry.objects.filter(book=LedgerEntry.Book.REVOLVING, reference=reference).first()
    if existing is not None or not topup.amount:
        return existing
    return _book(_lock(topup.fund), kind=LedgerEntry.Kind.TOPUP, amount=topup.amount, booked_on=paid_on, user=user,
                 reference=reference, memo=f"top-up for {topup.month:%Y-%m}")


# --- pre-payment (Zhenping) -----------------------------------------------------------------


@transaction.atomic
def prepayment_open(*, contract: Contract, user, amount: Decimal | None = None) -> Prepayment:
    """The cross-province settlement pre-payment of the contract's terms: due N working days
    after signing (Chinese calendar), returned when the service cycle ends."""
    terms = terms_for(contract)
    if terms.prepayment_amount is None or terms.prepayment_working_days is None:
        raise ValidationError(_("The contract's terms provide no pre-payment."))
    if contract.signed_on is None:
        raise ValidationError(_("Record the signing date first: the pre-payment is due in working days after it."))
    amount = terms.prepayment_amount if amount is None else to_amount(amount, "amount")
    rule = calc.WorkingDaysAfter(terms.prepayment_working_days, calc.SIGNING)
    deadline = load_calendar().add_working_days(contract.signed_on, rule.days)
    prepayment = Prepayment(
        contract=contract, amount=amount, due_date=deadline.date, due_date_provisional=deadline.provisional,
        return_due=contract.service_cycle_end,
        basis=f"{rule.describe()} ({contract.signed_on}); returned at service end {contract.service_cycle_end}",
    )
    _save(prepayment, user, "pre-payment opened")
    return prepayment


@transaction.atomic
def prepayment_record(*, prepayment: Prepayment, amount: Decimal, on_date: dt.date, returned: bool, user, reference: str = "") -> LedgerEntry:
    amount = _positive(amount)
    kind = LedgerEntry.Kind.RETURNED if returned else LedgerEntry.Kind.PAID_IN
    return _book(_lock(prepayment), kind=kind, amount=-amount if returned else amount, booked_on=on_date, user=user, reference=reference)


# --- penalties ------------------------------------------------------------------------------


@transaction.atomic
def penalty_impose(*, contract: Contract, kind: str, imposed_on: dt.date, reason: str, user, amount: Decimal | None = None,
                   base: Decimal | None = None, rate: Decimal | None = None, area: Area | None = None,
                   due_date: dt.date | None = None) -> Penalty:
    """Record an obligation. Early termination and confidentiality breach are computed from
    their base (total financing / contract amount) at the contract's rate when no amount is given."""
    if amount is None:
        if base is None:
            raise ValidationError({"amount": _("Enter the amount or its base.")})
        if kind == Penalty.Kind.EARLY_TERMINATION:
            rate = rate if rate is not None else EARLY_TERMINATION_RATE
        elif kind == Penalty.Kind.CONFIDENTIALITY:
            rate = rate if rate is not None else CONFIDENTIALITY_BREACH_RATE
        if rate is None:
            raise ValidationError({"rate": _("Enter the rate.")})
        amount = calc.penalty(base, rate)
    penalty = Penalty(contract=contract, area=area, kind=kind, base=base, rate=rate, amount=_positive(amount),
                      imposed_on=imposed_on, due_date=due_date, reason=reason.strip()[:300], created_by=user)
    _save(penalty, user, "penalty imposed")
    return penalty


@transaction.atomic
def premium_deduction_book(*, contract: Contract, installment: PremiumInstallment, amount: Decimal, on_date: dt.date,
                           reason: str, reference: str, user) -> Penalty:
    """A premium deduction by the assessment (seed 001 art. 3 and 11.5: the last installment is
    paid "according to the assessment"). Recorded as an assessment-deduction penalty (the fund
    position subtracts it from the premium income) and settled at once by set-off against the
    installment it is taken from: the authority pays that installment short by the
    deduction, so one SETTLED entry on the penalty and one RECEIPT entry on the installment
    (memo: set-off, no cash) close both; without the set-off the installment would stay
    outstanding and overdue, and suspend the insurer's liability. The set-off is at most what is
    still outstanding on the installment; any rest of the penalty stays open to be settled
    (`penalty_settle`), e.g. when the installment was paid in full before the assessment.

    `reference` (the caller's own key, e.g. the assessment's) is written on both entries; a
    second call with a reference already booked returns the first call's penalty."""
    if not reference:
        raise ValidationError({"reference": _("A reference is required.")})
    amount = _positive(amount)
    existing = LedgerEntry.objects.filter(book=LedgerEntry.Book.PENALTY, reference=reference).select_related("penalty").first()
    if existing is not None:
        return existing.penalty
    if installment.contract_id != contract.pk:
        raise ValidationError(_("The installment belongs to another contract."))
    penalty = penalty_impose(contract=contract, kind=Penalty.Kind.ASSESSMENT_DEDUCTION, amount=amount, imposed_on=on_date,
                             reason=reason, user=user, due_date=installment.due_date)
    installment = _lock(installment)
    setoff = min(amount, installment.outstanding)
    if setoff > 0:
        with translation.override(settings.LANGUAGE_CODE):  # stored text: the installation's language
            memo = (_("Set off against the assessment deduction (no cash): %(reason)s") % {"reason": reason.strip()})[:300]
        _book(_lock(penalty), kind=LedgerEntry.Kind.SETTLED, amount=setoff, booked_on=on_date, user=user, reference=reference,
              memo=memo)
        _book(installment, kind=LedgerEntry.Kind.RECEIPT, amount=setoff, booked_on=on_date, user=user, reference=reference,
              memo=memo)
    penalty.refresh_from_db()
    return penalty


@transaction.atomic
def penalty_settle(*, penalty: Penalty, amount: Decimal, on_date: dt.date, user, reference: str = "") -> LedgerEntry:
    return _book(_lock(penalty), kind=LedgerEntry.Kind.SETTLED, amount=_positive(amount), booked_on=on_date, user=user, reference=reference)


# --- hospital payables ----------------------------------------------------------------------


def hospital_due_date(contract: Contract, period: dt.date) -> dt.date | None:
    """When a month's hospital advances are due, by the contract's payment terms kept with the
    hospital batches (claims.HospitalSettlementTerms); None: by agreement."""
    due = payment_due_for(contract_id=contract.pk, month=period)
    return due.date if due is not None else None


@transaction.atomic
def hospital_payable_record(*, contract: Contract, area: Area, fixmedins_code: str, fixmedins_name: str, period: dt.date,
                            amount: Decimal, due_date: dt.date | None, reference: str, user) -> HospitalPayable:
    """What the insurer owes a hospital for one month in one area. Idempotent on `reference`:
    the same reference returns the existing row (a different amount for it is an error)."""
    if not reference:
        raise ValidationError({"reference": _("A reference is required.")})
    amount = to_amount(amount, "amount")
    existing = HospitalPayable.objects.select_for_update().filter(reference=reference).first()
    if existing is not None:
        return _same_payable(existing, contract, amount)
    payable = HospitalPayable(
        contract=contract, area=area, fixmedins_code=fixmedins_code, fixmedins_name=fixmedins_name,
        period=period.replace(day=1), amount=amount, due_date=due_date or hospital_due_date(contract, period.replace(day=1)),
        reference=reference, created_by=user,
    )
    try:
        with transaction.atomic():  # a concurrent import of the same batch may win the insert
            _save(payable, user, f"hospital payable {reference}")
    except IntegrityError:
        return _same_payable(HospitalPayable.objects.get(reference=reference), contract, amount)
    return payable


def _same_payable(existing: HospitalPayable, contract: Contract, amount: Decimal) -> HospitalPayable:
    if existing.amount != amount or existing.contract_id != contract.pk:
        raise ValidationError(_("Reference %(ref)s is already recorded with another contract or amount.") % {"ref": existing.reference})
    return existing


@transaction.atomic
def hospital_payable_record_payment(*, payable: HospitalPayable, amount: Decimal, paid_on: dt.date, user, reference: str = "") -> LedgerEntry:
    amount = _positive(amount)
    payable = _lock(payable)
    if amount > payable.outstanding:
        raise ValidationError({"amount": _("Only %(left)s is still outstanding.") % {"left": fmt_money(payable.outstanding)}})
    return _book(payable, kind=LedgerEntry.Kind.PAYMENT, amount=amount, booked_on=paid_on, user=user, reference=reference)

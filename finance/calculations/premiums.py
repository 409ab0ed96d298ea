"""Premiums: totals from headcounts, installment schedules, deposit withholding,
supplementary premium after a headcount change (DOMAIN.md §5, rows "premium" and
"installments").

A contract family's schedule is data: a sequence of `InstallmentRule`s, each a share of the
total (or the remainder) and a due-date rule. The due-date rules below are the only kinds the
seed contracts use; a new contract combines them instead of adding a branch here.

Due dates that depend on something not yet happened (fiscal funds arriving, an invoice, the
signing itself) are `None` until the caller records the event in `event_dates`; the
installment's description still says how the date will be fixed, so the schedule can be shown
and reminded before the date is known.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Final, Literal, Protocol

from insurance_admin.core.money import (
    CENT,
    ONE,
    ZERO,
    check_priced,
    exact,
    fmt_money,
    fmt_share,
    headcount_of,
    per_capita_rates,
    to_amount,
    to_decimal,
    to_money,
    to_rate,
)

#: `add_working_days(start, n)` returns the n-th working day after `start` (start not counted),
#: following the Chinese calendar (statutory holidays off, make-up working days on). The Django
#: layer passes one backed by the calendar table (e.g. `lambda d, n: calendar.add_working_days(d,
#: n).date`); this module never decides what a working day is.
AddWorkingDays = Callable[[dt.date, int], dt.date]

#: Share marker of the installment that receives whatever the other installments leave.
REMAINDER: Final = "remainder"

#: Event code of the contract signing; `signed_on` is recorded under it automatically.
SIGNING: Final = "signing"


@dataclass(frozen=True)
class ScheduleContext:
    """What a due-date rule may look at: the contract year and the recorded events."""

    year: int
    events: Mapping[str, dt.date]
    add_working_days: AddWorkingDays | None


class DueRule(Protocol):
    def due_date(self, ctx: ScheduleContext) -> dt.date | None: ...

    def describe(self) -> str: ...


def _event_phrase(event: str, label: str | None) -> str:
    if label:
        return label
    if event == SIGNING:
        return "signing"
    return event.replace("_", " ")


@dataclass(frozen=True)
class CalendarDaysAfter:
    """Due `days` calendar days after an event (Tongliao, seed 001 art. 3: 80 % "within 30 days
    after this agreement is signed").

    "Within 30 days of signing" is read as: the last permitted day is signing + 30 days
    (signed 2025-05-10 -> due 2025-06-09)."""

    days: int
    event: str = SIGNING
    event_label: str | None = None

    def due_date(self, ctx: ScheduleContext) -> dt.date | None:
        start = ctx.events.get(self.event)
        return None if start is None else start + dt.timedelta(days=self.days)

    def describe(self) -> str:
        return f"within {self.days} days after {_event_phrase(self.event, self.event_label)}"


@dataclass(frozen=True)
class WorkingDaysAfter:
    """Due on the `days`-th working day after an event (Beijing, seed 000: "within 5
    working days after the fiscal funds for this project are actually released"; Zhenping
    pre-payment, seed 004 art. 21: 60 working days after signing)."""

    days: int
    event: str
    event_label: str | None = None

    def due_date(self, ctx: ScheduleContext) -> dt.date | None:
        start = ctx.events.get(self.event)
        if start is None:
            return None
        if ctx.add_working_days is None:
            raise ValueError("a working-day rule needs add_working_days")
        return ctx.add_working_days(start, self.days)

    def describe(self) -> str:
        return (
            f"within {self.days} working days after {_event_phrase(self.event, self.event_label)}"
        )


@dataclass(frozen=True)
class FixedDate:
    """Due on a month-day of the contract year (Tongliao 12-20; Zhenping 03-31, 06-30, 12-31;
    Taikang revolving fund 01-10)."""

    month: int
    day: int

    def __post_init__(self) -> None:
        dt.date(2024, self.month, self.day)  # a leap year accepts every real month-day

    def due_date(self, ctx: ScheduleContext) -> dt.date | None:
        return dt.date(ctx.year, self.month, self.day)

    def describe(self) -> str:
        return f"by {self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class WithinMonth:
    """Due within a month of the contract year (Taikang, seed 002 art. 28: "in two batches, in
    March and September of each year"): the deadline is the month's last day, since the
    contract names no day."""

    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")

    def due_date(self, ctx: ScheduleContext) -> dt.date | None:
        return dt.date(ctx.year, self.month, calendar.monthrange(ctx.year, self.month)[1])

    def describe(self) -> str:
        return f"within {calendar.month_name[self.month]} (by month end)"


@dataclass(frozen=True)
class LatestOf:
    """Due when every condition is met: the latest of several due dates, unknown while any is.

    Beijing (seed 000, payment clauses 1-3) states two conditions at once: payment "completed
    within 5 working days after the fiscal funds are actually released" and "within 10 working
    days of receiving the insurer's formal invoice"; without an invoice the authority "may
    withhold payment", and a delay caused by the fiscal transfer is excused. So the payment is
    late only after both periods have run: the due date is the later one, and None until both
    events are on file.
    """

    rules: tuple[DueRule, ...]

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValueError("LatestOf needs at least one rule")

    def due_date(self, ctx: ScheduleContext) -> dt.date | None:
        dates = [rule.due_date(ctx) for rule in self.rules]
        return None if any(d is None for d in dates) else max(dates)

    def describe(self) -> str:
        return " and ".join(rule.describe() for rule in self.rules) + ", whichever is later"


@dataclass(frozen=True)
class InstallmentRule:
    """One installment of a schedule: a share of the total (a fraction such as Decimal("0.8"),
    or REMAINDER) and when it is due. `note` carries the contract's condition in words
    (e.g. "after the November assessment")."""

    share: Decimal | Literal["remainder"]
    due: DueRule
    note: str = ""


@dataclass(frozen=True)
class Installment:
    """One scheduled payment. `share` is the exact fraction of the total (the remainder's share
    is 1 minus the others); `amount` is in yuan, 2 dp; the amounts of a schedule sum exactly to
    its total. `due_date` is None while the event it depends on is not recorded."""

    seq: int
    share: Decimal
    amount: Decimal
    due_date: dt.date | None
    description: str


@dataclass(frozen=True)
class WithholdingDeduction:
    seq: int
    amount: Decimal
    net_amount: Decimal  # what the authority actually transfers for that installment


@dataclass(frozen=True)
class Withholding:
    """The part of the premium the authority keeps back as a contract deposit (guarantee deposit).

    It is not an extra installment: it is part of the total premium, deducted from the latest
    installments (so the installments still sum to the premium, and the cash transferred on
    schedule is the total minus the withholding). Its release depends on the annual assessment
    (Zhenping, seed 004 art. 36: the annual assessment "is linked to the payment of the deposit"),
    so it carries no due date here."""

    share: Decimal
    amount: Decimal
    deductions: tuple[WithholdingDeduction, ...]
    description: str

    def net_amount(self, seq: int, installment_amount: Decimal) -> Decimal:
        """The cash due for installment `seq` once the withholding is taken off."""
        for deduction in self.deductions:
            if deduction.seq == seq:
                return deduction.net_amount
        return installment_amount


def resolve_due_date(
    rule: DueRule,
    *,
    year: int,
    signed_on: dt.date | None = None,
    add_working_days: AddWorkingDays | None = None,
    event_dates: Mapping[str, dt.date] | None = None,
) -> dt.date | None:
    """The due date of one rule (also for deadlines that are not installments, e.g. the
    Zhenping pre-payment `WorkingDaysAfter(60, SIGNING)` or the Taikang revolving fund
    `FixedDate(1, 10)`); None while an event it depends on is not recorded."""
    return rule.due_date(_context(year, signed_on, add_working_days, event_dates))


def _context(
    year: int,
    signed_on: dt.date | None,
    add_working_days: AddWorkingDays | None,
    event_dates: Mapping[str, dt.date] | None,
) -> ScheduleContext:
    events = dict(event_dates or {})
    if signed_on is not None:
        if events.get(SIGNING, signed_on) != signed_on:
            raise ValueError("signed_on and event_dates['signing'] disagree")
        events[SIGNING] = signed_on
    return ScheduleContext(year=year, events=events, add_working_days=add_working_days)


def premium_schedule(
    total: Decimal | int | str,
    rules: Sequence[InstallmentRule],
    signed_on: dt.date | None,
    year: int,
    add_working_days: AddWorkingDays | None = None,
    *,
    event_dates: Mapping[str, dt.date] | None = None,
) -> list[Installment]:
    """Split a premium total into installments whose amounts sum exactly to the total.

    Each fixed share is `total × share` rounded half-up to 0.01; the REMAINDER installment gets
    the total minus the others, so it absorbs the rounding. Without a REMAINDER rule the shares
    must add up to exactly 1 and the last installment absorbs the rounding instead. A total so
    small that rounding the fixed shares up exceeds it (a few fen) is refused rather than given
    a negative installment.
    """
    total = to_amount(total, "total")
    if not rules:
        raise ValueError("a premium schedule needs at least one installment rule")
    remainder_positions = [i for i, rule in enumerate(rules) if rule.share == REMAINDER]
    if len(remainder_positions) > 1:
        raise ValueError("at most one installment can take the remainder")
    fixed = {
        i: to_rate(rule.share, f"share of installment {i + 1}", allow_zero=False)
        for i, rule in enumerate(rules)
        if rule.share != REMAINDER
    }
    with exact():
        fixed_sum = sum(fixed.values(), ZERO)
        if remainder_positions:
            if fixed_sum >= ONE:
                raise ValueError(
                    f"fixed shares add up to {fixed_sum}; nothing is left for the remainder"
                )
            absorbing = remainder_positions[0]
            shares = {**fixed, absorbing: ONE - fixed_sum}
        else:
            if fixed_sum != ONE:
                raise ValueError(f"installment shares add up to {fixed_sum}, not 1")
            absorbing = len(rules) - 1
            shares = fixed
        amounts = {i: to_money(total * shares[i]) for i in range(len(rules)) if i != absorbing}
        amounts[absorbing] = total - sum(amounts.values(), ZERO)
    if amounts[absorbing] < 0:
        raise ValueError(f"total {total} is too small to split into {len(rules)} installments")

    ctx = _context(year, signed_on, add_working_days, event_dates)
    schedule = []
    for i, rule in enumerate(rules):
        due_date = rule.due.due_date(ctx)
        share_text = fmt_share(shares[i])
        if rule.share == REMAINDER and len(rules) > 1:
            share_text = f"remainder ({share_text})"
        parts = [f"{share_text} of {fmt_money(total)}", rule.due.describe()]
        if rule.note:
            parts.append(rule.note)
        if due_date is None:
            parts.append("due date set when the event is recorded")
        schedule.append(
            Installment(
                seq=i + 1,
                share=shares[i],
                amount=amounts[i],
                due_date=due_date,
                description=", ".join(parts),
            )
        )
    return schedule


def deposit_withholding(
    installments: Sequence[Installment], withheld_share: Decimal | str
) -> Withholding:
    """The contract deposit kept back from a premium, as a line of its own.

    Zhenping (seed 004 art. 9): "each year 10 % of the total premium is reserved as the contract
    deposit; payment in installments: first, 40 % of the total premium by 03-31; second, 30 % of
    the total premium by 06-30; the remaining premium paid in full by 12-31."
    Read as: the installments are 40 % / 30 % / remainder (30 %) of the *total* premium, and the
    10 % deposit is part of that total, reserved out of the last payment; the 12-31 transfer is
    therefore 30 % − 10 % = 20 % of the total. (Reading the remainder as "what is left after the
    deposit" gives the same cash: 40 + 30 + 20 paid, 10 held.) The deposit is rounded once
    (half-up) on the total and taken from the latest installments backwards, so no transfer
    becomes negative; it is released according to the annual assessment, not on a date.
    """
    if not installments:
        raise ValueError("no installments to withhold from")
    share = to_rate(withheld_share, "withheld_share")
    with exact():
        total = sum((inst.amount for inst in installments), ZERO)
    amount = to_money(total * share)
    remaining = amount
    deductions = []
    for inst in sorted(installments, key=lambda inst: inst.seq, reverse=True):
        if remaining <= 0:
            break
        taken = min(remaining, inst.amount)
        deductions.append(
            WithholdingDeduction(seq=inst.seq, amount=taken, net_amount=inst.amount - taken)
        )
        remaining -= taken
    seqs = ", ".join(str(d.seq) for d in reversed(deductions))
    return Withholding(
        share=share,
        amount=amount,
        deductions=tuple(reversed(deductions)),
        description=(
            f"deposit {fmt_share(share)} of {fmt_money(total)} = {fmt_money(amount)}, "
            f"withheld from installment {seqs}; released according to the annual assessment"
        ),
    )


def supplementary_premium(
    per_capita_by_category: Mapping[str, Decimal | int | str],
    provisional_counts: Mapping[str, int],
    final_counts: Mapping[str, int],
) -> Decimal:
    """The premium still owed (positive) or overpaid (negative) once final headcounts replace
    the provisional ones: Σ per-capita × (final − provisional), rounded once.

    Tongliao: the end-of-November headcount replaces the provisional 2,217,285 (seed 001 art. 2:
    the "actual headcount at the end of November" is the final headcount for the year's
    premium); the difference is settled by a supplementary agreement. Zhenping: new enrollees
    pay the full 460 whatever the month they join (seed 004 art. 11: "460 per person", the cover
    "ends on the same date as the other insured of the year": no pro rata);
    new retirees add 0.
    """
    rates = per_capita_rates(per_capita_by_category)
    check_priced(provisional_counts, rates, "provisional_counts")
    check_priced(final_counts, rates, "final_counts")
    with exact():
        difference = ZERO
        for category, rate in rates.items():
            final = headcount_of(final_counts.get(category, 0), f"final count of {category!r}")
            provisional = headcount_of(
                provisional_counts.get(category, 0), f"provisional count of {category!r}"
            )
            difference += rate * (final - provisional)
    return to_money(difference)


@dataclass(frozen=True)
class PremiumPlan:
    """A contract family's premium terms as data: installment rules plus an optional deposit
    withheld from the premium (`withheld_share`, e.g. Decimal("0.10") for Zhenping: the contract's
    wording; the finance services take the share from the contract's `FinanceTerms.deposit_share`)."""

    rules: tuple[InstallmentRule, ...]
    withheld_share: Decimal | None = None
    notes: tuple[str, ...] = ()


def allocate_premium(total: Decimal | int | str, weights: Mapping[str, Decimal | int]) -> dict[str, Decimal]:
    """Split a contract's premium over its area books in proportion to `weights` (each book's
    headcount × per-capita premium from the headcount snapshot, or its headcount), so that
    the books sum to `total` exactly.

    Rule (largest remainder, deterministic): each book first gets `total × weight ÷ Σ weights`
    rounded *down* to the fen; the fen still missing (fewer than the number of books) go one
    each to the books with the largest discarded fraction, ties to the smaller key (the area
    code). When the snapshot's headcounts are the ones the premium was computed on (Tongliao:
    Σ county headcounts = the contract's headcount), every book gets exactly its headcount ×
    per-capita premium and no fen moves. Keys are returned in sorted order; a book of weight
    0 gets 0.00. A negative weight or a total weight of 0 is an error.
    """
    total = to_amount(total, "total", allow_negative=True)
    if not weights:
        raise ValueError("no books to allocate the premium to")
    values = {key: to_decimal(w, f"weight of {key!r}") for key, w in weights.items()}
    if any(w < 0 for w in values.values()):
        raise ValueError("a book's weight cannot be negative")
    whole = sum(values.values(), ZERO)
    if whole == 0:
        raise ValueError("the books' weights add up to 0: nothing to allocate by")
    sign = -1 if total < 0 else 1
    cents = int((abs(total) * 100).to_integral_value())
    with exact():
        exact_cents = {key: Decimal(cents) * w / whole for key, w in sorted(values.items())}
    floors = {key: int(v.to_integral_value(rounding=ROUND_FLOOR)) for key, v in exact_cents.items()}
    missing = cents - sum(floors.values())
    by_fraction = sorted(exact_cents, key=lambda key: (-(exact_cents[key] - floors[key]), key))
    for key in by_fraction[:missing]:
        floors[key] += 1
    return {key: (Decimal(sign * n) / 100).quantize(CENT) for key, n in sorted(floors.items())}

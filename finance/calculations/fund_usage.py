"""Yearly fund usage with a rolling surplus, and the revolving fund (Taikang, seed 002 arts.
8, 29-32; DOMAIN.md §5 rows "operating cost", "fund usage", "revolving fund").

Fund usage, as the contract words it: the insurer bears operating costs of 5 % of the year's
total financing (art. 8); it commits to using at least 90 % of the year's income "excluding
operating cost" (art. 29); "where less than 90 % is used in the year, the shortfall rolls over
as rolling surplus for use in the following year"; "a yearly payment rate above 100 % is borne
by the rolling surplus"; "where the rolling surplus falls below 30 % of the previous year's
total premium, the city medical-insurance and finance departments adjust the financing level or
the benefit policy" (art. 30).

Readings taken here:
- usable income = income - operating cost; usage rate = claims paid / usable income.
- the shortfall is the distance to the commitment, 90 % x usable - claims (not the whole unused
  part): between 90 % and 100 % nothing moves, the difference is the insurer's margin.
- the part above 100 % is drawn from the rolling surplus as far as it goes; what the rolling
  surplus cannot cover stays with the insurer (it paid the claims; the contract names no other
  payer) and is reported as `uncovered_excess`.
- the rolling surplus is a separate pot: it does not enter next year's usable income.
- "below 30 %" is strict: a rolling surplus of exactly 30 % raises no warning. The surplus
  compared is the one after this year's carry/draw. "Previous year" is relative to the contract
  year evaluated (the same contract uses "previous year's income" for the 2025 revolving fund,
  i.e. 2024's), so the caller passes the premium total of the year before the evaluated one.

Rounding: amounts half-up to 0.01, each once; rates exact (40 digits), shown to 0.01 %; the
90 % and 30 % tests compare exact amounts, never a displayed rate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from insurance_admin.core.money import (
    NIL,
    exact,
    fmt_money,
    fmt_share,
    percent,
    share_of,
    to_amount,
    to_money,
    to_rate,
)

from .premiums import FixedDate, resolve_due_date

TAIKANG_OPERATING_COST_RATE = Decimal("0.05")
TAIKANG_COMMITMENT_RATE = Decimal("0.90")
TAIKANG_WARNING_THRESHOLD = Decimal("0.30")
TAIKANG_REVOLVING_SHARE = Decimal("0.05")
#: Seed 002 art. 31: paid into the authority's revolving account "before January 10 each year".
TAIKANG_REVOLVING_DUE = FixedDate(1, 10)


@dataclass(frozen=True)
class FundUsage:
    """One year's fund-usage statement; amounts in yuan (2 dp), rates as fractions."""

    income: Decimal
    total_financing: Decimal
    operating_cost_rate: Decimal
    operating_cost: Decimal
    usable_income: Decimal
    claims_paid: Decimal
    usage_rate: Decimal  # claims_paid / usable_income, 40 significant digits
    usage_rate_display: str
    commitment_rate: Decimal
    commitment_amount: Decimal  # commitment_rate x usable_income, rounded
    shortfall_carried: Decimal  # added to the rolling surplus
    excess_over_usable: Decimal  # claims above 100 % of usable income
    drawn_from_rolling_surplus: Decimal
    uncovered_excess: Decimal  # excess the rolling surplus could not cover
    opening_rolling_surplus: Decimal
    new_rolling_surplus: Decimal
    last_year_premium: Decimal
    warning_threshold: Decimal  # fraction, 0.30
    warning_amount: Decimal  # warning_threshold x last_year_premium, rounded
    financing_adjustment_warning: bool
    formula_lines: tuple[str, ...]


def fund_usage(
    income: Decimal | int | str,
    claims_paid: Decimal | int | str,
    opening_rolling_surplus: Decimal | int | str,
    last_year_premium: Decimal | int | str,
    *,
    total_financing: Decimal | int | str | None = None,
    operating_cost_rate: Decimal | str = TAIKANG_OPERATING_COST_RATE,
    commitment_rate: Decimal | str = TAIKANG_COMMITMENT_RATE,
    warning_threshold: Decimal | str = TAIKANG_WARNING_THRESHOLD,
) -> FundUsage:
    """Evaluate a year's fund usage and roll the surplus forward (readings in the module doc).

    `total_financing` is the base of the 5 % operating cost and defaults to `income` (the
    contract's "total financing" and "income" are the same figure unless the caller knows
    better). A usable income of 0 or less makes the rate undefined: ValueError.
    """
    income = to_amount(income, "income")
    claims_paid = to_amount(claims_paid, "claims_paid")
    opening = to_amount(opening_rolling_surplus, "opening_rolling_surplus")
    last_year_premium = to_amount(last_year_premium, "last_year_premium")
    financing = income if total_financing is None else to_amount(total_financing, "total_financing")
    cost_rate = to_rate(operating_cost_rate, "operating_cost_rate")
    commitment = to_rate(commitment_rate, "commitment_rate")
    threshold = to_rate(warning_threshold, "warning_threshold")

    operating_cost = share_of(financing, cost_rate)
    usable = income - operating_cost
    if usable <= 0:
        raise ValueError(
            f"usable income (income - operating cost) is {usable}; the usage rate is undefined"
        )

    with exact():
        usage_rate = claims_paid / usable
        exact_commitment = usable * commitment
        shortfall = (
            to_money(exact_commitment - claims_paid) if claims_paid < exact_commitment else NIL
        )
        excess = claims_paid - usable if claims_paid > usable else NIL
        drawn = min(excess, opening)
        uncovered = excess - drawn
        new_surplus = opening + shortfall - drawn
        exact_warning = last_year_premium * threshold
        warning = new_surplus < exact_warning

    lines = [
        f"Operating cost = {fmt_share(cost_rate)} x total financing {fmt_money(financing)} = {fmt_money(operating_cost)}",
        f"Usable income = income - operating cost = {fmt_money(income)} - {fmt_money(operating_cost)} = {fmt_money(usable)}",
        f"Usage rate = claims paid / usable income = {fmt_money(claims_paid)} / {fmt_money(usable)} = {percent(usage_rate)}",
        f"Commitment = {fmt_share(commitment)} x {fmt_money(usable)} = {fmt_money(to_money(exact_commitment))}",
    ]
    if shortfall:
        lines.append(
            f"Usage below {fmt_share(commitment)}: shortfall = commitment - claims paid = {fmt_money(shortfall)}, "
            f"carried to the rolling surplus"
        )
    elif excess:
        lines.append(
            f"Usage above 100%: excess = claims paid - usable income = {fmt_money(excess)}; "
            f"drawn from the rolling surplus {fmt_money(drawn)}"
        )
        if uncovered:
            lines.append(
                f"Rolling surplus exhausted: {fmt_money(uncovered)} not covered (borne by the insurer)"
            )
    else:
        lines.append(f"Usage between {fmt_share(commitment)} and 100%: nothing carried or drawn")
    lines.append(
        f"Rolling surplus = opening + carried - drawn = {fmt_money(opening)} + {fmt_money(shortfall)} - "
        f"{fmt_money(drawn)} = {fmt_money(new_surplus)}"
    )
    comparison = "<" if warning else ">="
    lines.append(
        f"Warning level = {fmt_share(threshold)} x last year's premium {fmt_money(last_year_premium)} = "
        f"{fmt_money(to_money(exact_warning))}; rolling surplus {fmt_money(new_surplus)} {comparison} it: "
        + ("financing adjustment needed" if warning else "no adjustment needed")
    )

    return FundUsage(
        income=income,
        total_financing=financing,
        operating_cost_rate=cost_rate,
        operating_cost=operating_cost,
        usable_income=usable,
        claims_paid=claims_paid,
        usage_rate=usage_rate,
        usage_rate_display=percent(usage_rate),
        commitment_rate=commitment,
        commitment_amount=to_money(exact_commitment),
        shortfall_carried=shortfall,
        excess_over_usable=excess,
        drawn_from_rolling_surplus=drawn,
        uncovered_excess=uncovered,
        opening_rolling_surplus=opening,
        new_rolling_surplus=new_surplus,
        last_year_premium=last_year_premium,
        warning_threshold=threshold,
        warning_amount=to_money(exact_warning),
        financing_adjustment_warning=warning,
        formula_lines=tuple(lines),
    )


@dataclass(frozen=True)
class RevolvingOpening:
    amount: Decimal
    due_date: dt.date
    description: str


def revolving_opening(
    last_year_income: Decimal | int | str,
    year: int,
    *,
    share: Decimal | str = TAIKANG_REVOLVING_SHARE,
    due: FixedDate = TAIKANG_REVOLVING_DUE,
) -> RevolvingOpening:
    """The revolving fund the insurer pays into the authority's account at the start of `year`:
    `share` of the previous year's income (seed 002 art. 31: 5 %; "the 2025 revolving fund is
    410,000" = 5 % x 8,200,000), due by 01-10 of the year."""
    income = to_amount(last_year_income, "last_year_income")
    rate = to_rate(share, "share")
    amount = share_of(income, rate)
    due_date = resolve_due_date(due, year=year)
    return RevolvingOpening(
        amount=amount,
        due_date=due_date,
        description=f"{fmt_share(rate)} x last year's income {fmt_money(income)} = {fmt_money(amount)}, {due.describe()}",
    )


def revolving_topup(opening: Decimal | int | str, balance: Decimal | int | str) -> Decimal:
    """The monthly top-up (seed 002 art. 32: "top up the revolving fund monthly") that restores
    the account to its opening amount; never negative (a balance above the opening amount is
    not paid back here). A negative balance (overdrawn account) is topped up in full."""
    opening = to_amount(opening, "opening")
    balance = to_amount(balance, "balance", allow_negative=True)
    return max(opening - balance, NIL)

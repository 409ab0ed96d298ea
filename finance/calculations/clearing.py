"""Service-cycle clearing (Tongliao, seed 001 art. 12; DOMAIN.md §5 row "clearing").

The contract: after the April audit following the cycle 2025-2027, the authority clears the
whole cycle at city level (all nine county books pooled). Balance rate = (fund - medical
spend) / fund. "Break even with a small profit": the total surplus is kept within 3 %
(3 % included); everything above 3 % is returned to the residents' basic medical-insurance
fund; an overspend is shared by the medical-insurance department and the insurer 4 : 6.

Rounding: every amount is rounded once, half-up, to 0.01. The rate is kept to 40 significant
digits and shown to two decimals of a percent for display only; no decision uses the displayed
or a rounded rate: "is the surplus within 3 %?" is decided exactly, as surplus × 1 <= fund × 3 %.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from insurance_admin.core.money import (
    NIL,
    ZERO,
    exact,
    fmt_money,
    fmt_share,
    percent,
    to_amount,
    to_money,
    to_rate,
)

#: Seed 001: surplus "controlled within 3 % (3 % included)".
TONGLIAO_RETENTION_LIMIT = Decimal("0.03")
#: Seed 001: overspend borne by the medical-insurance department and the insurer "4 : 6".
TONGLIAO_AUTHORITY_LOSS_SHARE = Decimal("0.4")


@dataclass(frozen=True)
class ClearingBook:
    """One separately kept book (a county-level area, or a year) pooled into the clearing."""

    label: str
    fund: Decimal
    medical_spend: Decimal


@dataclass(frozen=True)
class Clearing:
    """Every figure of a clearing statement, in yuan (2 dp) unless named a rate.

    Exactly one side is non-zero: with `balance` >= 0, `insurer_kept + returned_to_fund ==
    surplus` and the loss figures are 0; with `balance` < 0, `authority_share + insurer_share ==
    overspend` and the surplus figures are 0."""

    fund: Decimal
    medical_spend: Decimal
    balance: Decimal  # fund - medical_spend, signed
    rate: Decimal  # balance / fund, 40 significant digits, negative for a loss
    rate_display: str  # e.g. "10.00%"
    retention_limit: Decimal  # fraction, 0.03
    retention_cap: Decimal  # retention_limit x fund, rounded
    surplus: Decimal
    insurer_kept: Decimal
    returned_to_fund: Decimal
    overspend: Decimal
    authority_loss_share: Decimal  # fraction, 0.4
    authority_share: Decimal
    insurer_share: Decimal
    formula_lines: tuple[str, ...]


def cycle_clearing(
    fund: Decimal | int | str,
    medical_spend: Decimal | int | str,
    *,
    retention_limit: Decimal | str = TONGLIAO_RETENTION_LIMIT,
    authority_loss_share: Decimal | str = TONGLIAO_AUTHORITY_LOSS_SHARE,
) -> Clearing:
    """Clear a service cycle: split a surplus between insurer and basic fund, or an overspend
    between authority and insurer.

    `fund` is the pooled premium income of the cycle ("total critical-illness insurance funds"),
    `medical_spend` the pooled claims paid ("total medical expenditure"). A surplus whose rate
    is at most `retention_limit` is kept entirely by the insurer; above it the insurer keeps
    `retention_limit × fund` (rounded half-up) and the rest goes back. In a loss the authority
    bears `authority_loss_share` of the overspend, rounded half-up, and the insurer the rest,
    so the two add up to the overspend to the fen.

    A fund of zero makes the rate undefined (and a clearing meaningless): ValueError.
    """
    fund = to_amount(fund, "fund")
    medical_spend = to_amount(medical_spend, "medical_spend")
    limit = to_rate(retention_limit, "retention_limit")
    authority_part = to_rate(authority_loss_share, "authority_loss_share")
    if fund == 0:
        raise ValueError(
            "cannot clear a cycle with a fund of 0: the balance rate (fund - spend) / fund is undefined"
        )

    with exact():
        balance = fund - medical_spend
        rate = balance / fund
        exact_cap = fund * limit
        retention_cap = to_money(exact_cap)
        lines = [
            f"Balance = fund - medical spend = {fmt_money(fund)} - {fmt_money(medical_spend)} = {fmt_money(balance)}",
            f"Balance rate = balance / fund = {fmt_money(balance)} / {fmt_money(fund)} = {percent(rate)}",
        ]
        surplus = overspend = kept = returned = authority_share = insurer_share = NIL
        if balance >= 0:
            surplus = balance
            lines.append(
                f"Retention cap = {fmt_share(limit)} x fund = {fmt_share(limit)} x {fmt_money(fund)} = {fmt_money(retention_cap)}"
            )
            if surplus <= exact_cap:
                kept = surplus
                lines.append(
                    f"Surplus rate {percent(rate)} <= {fmt_share(limit)} (limit included): "
                    f"insurer keeps the whole surplus {fmt_money(kept)}; returned to the basic fund 0.00"
                )
            else:
                # surplus is a whole number of fen above the exact cap, so the rounded cap
                # never exceeds it.
                kept = retention_cap
                returned = surplus - kept
                lines.append(
                    f"Surplus rate {percent(rate)} > {fmt_share(limit)}: insurer keeps the cap {fmt_money(kept)}"
                )
                lines.append(
                    f"Returned to the basic fund = surplus - kept = {fmt_money(surplus)} - {fmt_money(kept)} = {fmt_money(returned)}"
                )
        else:
            overspend = -balance
            authority_share = to_money(overspend * authority_part)
            insurer_share = overspend - authority_share
            insurer_part = 1 - authority_part
            lines.append(f"Overspend = medical spend - fund = {fmt_money(overspend)}")
            lines.append(
                f"Authority share = {fmt_share(authority_part)} x {fmt_money(overspend)} = {fmt_money(authority_share)}"
            )
            lines.append(
                f"Insurer share ({fmt_share(insurer_part)}) = overspend - authority share = "
                f"{fmt_money(overspend)} - {fmt_money(authority_share)} = {fmt_money(insurer_share)}"
            )

    return Clearing(
        fund=fund,
        medical_spend=medical_spend,
        balance=balance,
        rate=rate,
        rate_display=percent(rate),
        retention_limit=limit,
        retention_cap=retention_cap,
        surplus=surplus,
        insurer_kept=kept,
        returned_to_fund=returned,
        overspend=overspend,
        authority_loss_share=authority_part,
        authority_share=authority_share,
        insurer_share=insurer_share,
        formula_lines=tuple(lines),
    )


def pooled_clearing(
    books: Iterable[ClearingBook],
    *,
    retention_limit: Decimal | str = TONGLIAO_RETENTION_LIMIT,
    authority_loss_share: Decimal | str = TONGLIAO_AUTHORITY_LOSS_SHARE,
) -> Clearing:
    """Clear the sum of separately kept books (seed 001: "city-level pooling, separate books per
    county"; the rate is computed "under the city-level pooling model"), so one county's loss is
    offset by another's surplus. The statement lists each book before the pooled figures."""
    books = list(books)
    if not books:
        raise ValueError("no books to clear")
    lines = []
    with exact():
        fund = medical_spend = ZERO
        for book in books:
            # a book may be negative (a city-level deduction booked to no county); the pooled
            # fund may not (cycle_clearing refuses it)
            book_fund = to_amount(book.fund, f"fund of {book.label}", allow_negative=True)
            book_spend = to_amount(book.medical_spend, f"medical_spend of {book.label}")
            fund += book_fund
            medical_spend += book_spend
            lines.append(
                f"{book.label}: fund {fmt_money(book_fund)}, medical spend {fmt_money(book_spend)}"
            )
    lines.append(f"Pooled: fund {fmt_money(fund)}, medical spend {fmt_money(medical_spend)}")
    result = cycle_clearing(
        fund,
        medical_spend,
        retention_limit=retention_limit,
        authority_loss_share=authority_loss_share,
    )
    return replace(result, formula_lines=tuple(lines) + result.formula_lines)

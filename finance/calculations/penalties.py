"""Contractual penalties (liquidated damages) as a share of a base amount (DOMAIN.md §5 row
"penalties"). The base and the rate are the contract's; only the rounding is ours: once,
half-up, to 0.01."""

from __future__ import annotations

from decimal import Decimal

from insurance_admin.core.money import share_of, to_amount, to_rate

#: Seed 002 art. 46: terminating early costs "10 % of this year's total financing".
EARLY_TERMINATION_RATE = Decimal("0.10")
#: Seed 000 art. 9.2: a confidentiality breach costs "20 % of the total contract amount".
CONFIDENTIALITY_BREACH_RATE = Decimal("0.20")


def penalty(base: Decimal | int | str, rate: Decimal | str) -> Decimal:
    """`rate` x `base`, rounded once half-up to 0.01."""
    return share_of(to_amount(base, "base"), to_rate(rate, "rate"))


def early_termination_penalty(
    total_financing: Decimal | int | str, rate: Decimal | str = EARLY_TERMINATION_RATE
) -> Decimal:
    """Payable by the party that ends the contract early without force majeure or a serious
    breach by the other side (Taikang)."""
    return penalty(total_financing, rate)


def confidentiality_penalty(
    contract_amount: Decimal | int | str, rate: Decimal | str = CONFIDENTIALITY_BREACH_RATE
) -> Decimal:
    """Payable by the insurer when it leaks the authority's information (Beijing:
    20 % x 3,912,285.00 = 782,457.00); damages beyond it are claimed separately."""
    return penalty(contract_amount, rate)

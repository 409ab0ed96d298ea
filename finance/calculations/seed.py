"""The seed contracts' premium terms as data (DOMAIN.md §5), keyed by program code.

Loaded by whoever seeds the database; nothing in the calculations looks a contract up by
name. Figures and dates are the contracts'; the readings are documented on the rule types.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from .premiums import (
    REMAINDER,
    SIGNING,
    CalendarDaysAfter,
    FixedDate,
    InstallmentRule,
    LatestOf,
    PremiumPlan,
    WithinMonth,
    WorkingDaysAfter,
)

FISCAL_FUNDS_ARRIVED: Final = "fiscal_funds_arrived"
INVOICE_RECEIVED: Final = "invoice_received"

#: Per-capita premium by headcount category (yuan a year).
PER_CAPITA: Final[dict[str, dict[str, Decimal]]] = {
    # seed 001 art. 2: 2024's standard, 114.23, provisionally for 2025
    "tongliao-2025": {"resident": Decimal("114.23")},
    # seed 002 art. 28: financing standard 150 per person a year
    "taikang-2025": {"insured": Decimal("150")},
    # seed 004 art. 7: active employees 460; retirees pay nothing but are covered
    "zhenping-2026": {"active": Decimal("460"), "retired": Decimal("0")},
    # seed 000: 195 per person, 20,063 persons
    "beijing-chaoyang-2026": {"insured": Decimal("195")},
}

PREMIUM_PLANS: Final[dict[str, PremiumPlan]] = {
    "tongliao-2025": PremiumPlan(
        rules=(
            InstallmentRule(Decimal("0.8"), CalendarDaysAfter(30, SIGNING)),
            InstallmentRule(
                REMAINDER, FixedDate(12, 20), note="according to the assessment up to November"
            ),
        ),
        notes=(
            "the difference after the end-of-November headcount is paid under a supplementary agreement",
        ),
    ),
    "taikang-2025": PremiumPlan(
        rules=(
            # The contract names two batches, not their sizes: equal halves until told otherwise.
            InstallmentRule(Decimal("0.5"), WithinMonth(3)),
            InstallmentRule(REMAINDER, WithinMonth(9)),
        ),
    ),
    "zhenping-2026": PremiumPlan(
        rules=(
            InstallmentRule(Decimal("0.4"), FixedDate(3, 31)),
            InstallmentRule(Decimal("0.3"), FixedDate(6, 30)),
            InstallmentRule(REMAINDER, FixedDate(12, 31)),
        ),
        withheld_share=Decimal("0.10"),
    ),
    "beijing-chaoyang-2026": PremiumPlan(
        rules=(
            InstallmentRule(
                REMAINDER,
                LatestOf(
                    (
                        WorkingDaysAfter(5, FISCAL_FUNDS_ARRIVED, "the fiscal funds arrive"),
                        WorkingDaysAfter(10, INVOICE_RECEIVED, "the invoice is received"),
                    )
                ),
                note="one payment",
            ),
        ),
    ),
}

#: Seed 004 art. 21: cross-province settlement pre-payment of 1,553,100 "within 60 working days
#: from the signing of this agreement", returned when the service ends on 2028-12-31.
ZHENPING_PREPAYMENT_AMOUNT: Final = Decimal("1553100.00")
ZHENPING_PREPAYMENT_DUE: Final = WorkingDaysAfter(60, SIGNING)

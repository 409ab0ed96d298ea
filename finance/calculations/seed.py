"""The seed contracts' premium terms as data (DOMAIN.md §5), keyed by contract code.

Seed data only: the finance migration `0010_seed_installment_rules` writes `PREMIUM_PLANS` into
`finance.InstallmentRule` rows, and at run time the schedules are built from those rows;
nothing outside seeding and tests looks a contract up by code. Figures and dates are the
contracts'; the readings are documented on the rule types.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from programs.seed_rates import RATES, per_capita_by_headcount_category

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

#: Per-capita premium by headcount category (yuan a year), read from the one source of these
#: figures (`programs.seed_rates`, seeded into `programs.PremiumRate`).
PER_CAPITA: Final[dict[str, dict[str, Decimal]]] = {code: per_capita_by_headcount_category(code) for code in RATES}

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

"""Pure finance calculations (DOMAIN.md §5): plain values in, frozen dataclasses out.

No database, no Django: the finance services load contract data, call these functions and
store what they return; the UI, batch jobs and reports reuse them. Money is `Decimal` with
two decimals, rounded half-up to 0.01 only where an amount is produced.
"""

# per-capita × headcount lives in insurance_admin.core.money (programs shows it on headcount snapshots)
from insurance_admin.core.money import headcount_premium

from .clearing import Clearing, ClearingBook, cycle_clearing, pooled_clearing
from .fund_usage import FundUsage, RevolvingOpening, fund_usage, revolving_opening, revolving_topup
from .penalties import confidentiality_penalty, early_termination_penalty, penalty
from .premiums import (
    REMAINDER,
    SIGNING,
    AddWorkingDays,
    CalendarDaysAfter,
    DueRule,
    FixedDate,
    Installment,
    InstallmentRule,
    LatestOf,
    PremiumPlan,
    Withholding,
    WithholdingDeduction,
    WithinMonth,
    WorkingDaysAfter,
    allocate_premium,
    deposit_withholding,
    premium_schedule,
    resolve_due_date,
    supplementary_premium,
)

__all__ = [
    "REMAINDER",
    "SIGNING",
    "AddWorkingDays",
    "CalendarDaysAfter",
    "Clearing",
    "ClearingBook",
    "DueRule",
    "FixedDate",
    "FundUsage",
    "Installment",
    "InstallmentRule",
    "LatestOf",
    "PremiumPlan",
    "RevolvingOpening",
    "WithholdingDeduction",
    "Withholding",
    "WithinMonth",
    "WorkingDaysAfter",
    "allocate_premium",
    "confidentiality_penalty",
    "cycle_clearing",
    "deposit_withholding",
    "early_termination_penalty",
    "fund_usage",
    "headcount_premium",
    "penalty",
    "pooled_clearing",
    "premium_schedule",
    "resolve_due_date",
    "revolving_opening",
    "revolving_topup",
    "supplementary_premium",
]

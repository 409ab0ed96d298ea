"""The seed contracts' finance terms (DOMAIN.md §5) as rows of `FinanceTerms`.

`load_finance_terms(apps)` takes a model registry so the same data serves the data migration
and `finance.selectors.terms_for` (which fills in a missing row, e.g. after a test flush).
Existing rows are left as an administrator may have edited them.
"""

from decimal import Decimal

FINANCE_TERMS = {
    # seed 001: unpaid premium suspends liability; 3-year cycle clearing, 3 % kept, loss 4 : 6
    "tongliao-2025": {"unpaid_suspends_liability": True, "clearing": "cycle"},
    # seed 002: 5 % operating cost, 90 % usage commitment, rolling surplus, 30 % warning;
    # 2024 income 8,200,000 (the 2025 revolving fund of 410,000 is 5 % of it); the hospital
    # payment rule lives with the hospital batches (claims.HospitalSettlementTerms)
    "taikang-2025": {
        "unpaid_suspends_liability": True,
        "clearing": "yearly_usage",
        "operating_cost_rate": Decimal("0.05"),
        "revolving_share": Decimal("0.05"),
        "last_year_premium": Decimal("8200000.00"),
        # art. 38: 10 % of the year's fund is the annual deposit, returned within 30 days after
        # the year's cases are closed without objection
        # (not withheld: the contract names the two transfers, not a deduction from them)
        "deposit_share": Decimal("0.10"),
        "deposit_kind": "annual",
        "deposit_withheld": False,
    },
    # seed 004: yearly self-balancing, no clearing formula in the contract
    # cross-province pre-payment 1,553,100 within 60 working days of signing (art. 21)
    "zhenping-2026": {
        "unpaid_suspends_liability": True,
        "prepayment_amount": Decimal("1553100.00"),
        "prepayment_working_days": 60,
        # art. 9: 10 % of the total premium reserved as the contract deposit
        "deposit_share": Decimal("0.10"),
        "deposit_kind": "contract",
    },
    # seed 000: one payment, no suspension clause
    "beijing-chaoyang-2026": {},
}


#: the terms added after the first seeding (migration 0007 fills them into existing rows)
DEPOSIT_TERMS = ("deposit_share", "deposit_kind", "deposit_withheld")


def load_finance_terms(apps, codes=None) -> None:
    Contract = apps.get_model("programs", "Contract")
    FinanceTerms = apps.get_model("finance", "FinanceTerms")
    for code, values in FINANCE_TERMS.items():
        if codes is not None and code not in codes:
            continue
        contract = Contract.objects.filter(code=code).first()
        if contract is not None:
            # a migration's historical model may predate a field (the deposit terms: 0007 adds them)
            known = {f.name for f in FinanceTerms._meta.get_fields()}
            FinanceTerms.objects.get_or_create(contract=contract, defaults={k: v for k, v in values.items() if k in known})

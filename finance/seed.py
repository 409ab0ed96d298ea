"""The seed contracts' finance terms (DOMAIN.md §5) as rows of `FinanceTerms`.

`load_finance_terms(apps)` takes a model registry so the same data serves the data migration
and `finance.selectors.terms_for` (which fills in a missing row, e.g. after a test flush).
Existing rows are left as an administrator may have edited them.
"""

from decimal import Decimal

FINANCE_TERMS = {
    # seed 001: unpaid premium suspends liability; 3-year cycle clearing, 3 % kept, loss 4 : 6
    # annual audit of the natural year by the end of April of the next (art. 12.1)
    "tongliao-2025": {"unpaid_suspends_liability": True, "clearing": "cycle", "annual_audit_month": 4},
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
        # service window, network, staff and training within 15 working days of signing (art. 10)
        "service_window_working_days": 15,
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
            # an early migration's model lacks the terms added later (load_later_terms sets those)
            known = {f.name for f in FinanceTerms._meta.get_fields()}
            FinanceTerms.objects.get_or_create(contract=contract, defaults={k: v for k, v in values.items() if k in known})


#: Terms added after the first seeding (migration 0007): set on existing rows where still empty.
LATER_TERMS = ("service_window_working_days", "annual_audit_month")


def load_later_terms(apps) -> None:
    Contract = apps.get_model("programs", "Contract")
    FinanceTerms = apps.get_model("finance", "FinanceTerms")
    for code, values in FINANCE_TERMS.items():
        contract = Contract.objects.filter(code=code).first()
        if contract is None:
            continue
        for field in LATER_TERMS:
            if field in values:
                FinanceTerms.objects.filter(contract=contract, **{f"{field}__isnull": True}).update(**{field: values[field]})

"""The seed contracts' finance terms (DOMAIN.md §5) as rows of `FinanceTerms`.

`load_finance_terms(apps)` takes a model registry so the same data serves the data migration
and `manage.py seed_contracts` (through `programs.seed.register_seed_loader`, e.g. after a test
flush); at run time the terms are read from the database only. Existing rows are left as an
administrator may have edited them.
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


# --- premium installment rules ------------------------------------------------------------

#: The contracts' wording of each installment (quoted into `InstallmentRule.clause`), by seq.
INSTALLMENT_CLAUSES = {
    "tongliao-2025": {
        1: "本协议签订后30日内，甲方向乙方拨付保费总金额的80%（第三条）",
        2: "剩余20%保费根据截止本年度11月份的考核情况，于2025年12月20日前拨付；2025年度差额保费按照大病保险补充协议规定进行拨付（第三条）",
    },
    "taikang-2025": {
        1: "甲方在每年3月、9月分两批将资金划拨乙方（第二十八条；两批金额未约定，暂按各半）",
        2: "甲方在每年3月、9月分两批将资金划拨乙方（第二十八条）",
    },
    "zhenping-2026": {
        1: "第一次于2026年3月31日前支付总保费的40%（第九条）",
        2: "第二次于2026年6月30日前支付总保费的30%（第九条）",
        3: "于2026年12月31前完成剩余保费支付；每年预留总保险费的10%作为合同保证金（第九条）",
    },
    "beijing-chaoyang-2026": {
        1: "费用一次支付，需财政此项目资金实际下达后5个工作日内支付完成；甲方在收到乙方开具的正规发票10个工作日内支付（付款方式第1、3条）",
    },
}


def _due_fields(due) -> dict:
    """A `finance.calculations` due rule as the fields of an `InstallmentRule` row."""
    from .calculations import premiums as calc

    def simple(rule) -> dict:
        if isinstance(rule, calc.FixedDate):
            return {"kind": "fixed_date", "month": rule.month, "day": rule.day}
        if isinstance(rule, calc.WithinMonth):
            return {"kind": "within_month", "month": rule.month}
        if isinstance(rule, calc.CalendarDaysAfter):
            return {"kind": "days_after", "days": rule.days, "event": rule.event}
        if isinstance(rule, calc.WorkingDaysAfter):
            return {"kind": "working_days_after", "days": rule.days, "event": rule.event}
        raise ValueError(f"no row form for {rule!r}")

    if isinstance(due, calc.LatestOf):
        return {"due_kind": "latest_of", "due_parts": [simple(rule) for rule in due.rules]}
    values = simple(due)
    return {"due_kind": values.pop("kind"), **{f"due_{key}": value for key, value in values.items()}}


def load_installment_rules(apps, codes=None) -> None:
    """The seed contracts' installment rules (`calculations.seed.PREMIUM_PLANS`, the one source)
    as `InstallmentRule` rows, and the plan's notes as the terms' premium notes; a contract whose
    terms have rules already is left as an administrator may have edited it."""
    from .calculations import premiums as calc
    from .calculations.seed import PREMIUM_PLANS

    FinanceTerms = apps.get_model("finance", "FinanceTerms")
    InstallmentRule = apps.get_model("finance", "InstallmentRule")
    for code, plan in PREMIUM_PLANS.items():
        if codes is not None and code not in codes:
            continue
        terms = FinanceTerms.objects.filter(contract__code=code).first()
        if terms is None or InstallmentRule.objects.filter(terms=terms).exists():
            continue
        for seq, rule in enumerate(plan.rules, start=1):
            remainder = rule.share == calc.REMAINDER
            InstallmentRule.objects.create(
                terms=terms, seq=seq, takes_remainder=remainder, share=None if remainder else rule.share,
                note=rule.note, clause=INSTALLMENT_CLAUSES.get(code, {}).get(seq, ""), **_due_fields(rule.due),
            )
        if plan.notes and not terms.premium_notes:
            terms.premium_notes = "\n".join(plan.notes)
            terms.save(update_fields=["premium_notes"])


def load_finance_seed(apps) -> None:
    """Everything finance seeds for the seed contracts (idempotent): after `seed_contracts`."""
    load_finance_terms(apps)
    load_later_terms(apps)
    load_installment_rules(apps)

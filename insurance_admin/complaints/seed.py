"""The seed contracts' complaint clocks (DOMAIN.md §6). Only seed 000 sets its own answer time;
the others fall back to the defaults (the regulator's 15 working days for simple and 30 for
complex complaints), which a supervisor may change per contract.

`load_complaint_terms(apps)` serves the data migration and `manage.py seed_contracts` (e.g.
after a test flush); at run time the terms are read from the database only. Existing rows are
left as they were edited."""

BEIJING = "第四条（四）2.乙方在收到甲方或其它被保险人关于保险服务质量问题的通知后三个工作日内，应迅速查处并答复。"

COMPLAINT_TERMS = {
    "tongliao-2025": {},
    "taikang-2025": {},
    "zhenping-2026": {},
    "beijing-chaoyang-2026": {"answer_days": 3, "rule_text": BEIJING},
}


def load_complaint_terms(apps, codes=None) -> None:
    Contract = apps.get_model("programs", "Contract")
    ComplaintTerms = apps.get_model("complaints", "ComplaintTerms")
    for code, values in COMPLAINT_TERMS.items():
        if codes is not None and code not in codes:
            continue
        contract = Contract.objects.filter(code=code).first()
        if contract is not None:
            ComplaintTerms.objects.get_or_create(contract=contract, defaults=values)

"""The seed contracts' periodic reports (DOMAIN.md §6) as `ReportTerm` rows. The contracts
name the reports but no day, so each is due by the last day of the month after its period
(a quarterly report "in the first month of the quarter", seed 004). Existing rows are left
as an administrator may have edited them."""

REPORT_TERMS = {
    # seed 001, 第八条 3【定期报告】: monthly payment statement, quarterly fund-usage analysis,
    # a summary per assessment year
    "tongliao-2025": [
        ("monthly", "第八条第3项：每月提交大病保险支付费用情况表"),
        ("quarterly", "第八条第3项：每季度提交基金使用情况分析报告"),
        ("annual", "第八条第3项：按考核年度提交总结报告"),
    ],
    # seed 002, 第三十七条: an operating report every half of the contract year
    "taikang-2025": [("semiannual", "第三十七条：按合同年度每半年报送运行情况报告")],
    # seed 004, 第二十二条 3: last quarter's claims and special account in the first month of
    # each quarter; an operating report every half year
    "zhenping-2026": [
        ("quarterly", "第二十二条第3项：每季度第一个月提交上季度赔付情况及专项账户使用情况"),
        ("semiannual", "第二十二条第3项：每半年提交医疗保障计划运营报告"),
    ],
}


def load_report_terms(apps) -> None:
    Contract = apps.get_model("programs", "Contract")
    ReportTerm = apps.get_model("reporting", "ReportTerm")
    for code, terms in REPORT_TERMS.items():
        contract = Contract.objects.filter(code=code).first()
        if contract is None:
            continue
        for kind, clause in terms:
            ReportTerm.objects.get_or_create(contract=contract, kind=kind, defaults={"clause": clause})

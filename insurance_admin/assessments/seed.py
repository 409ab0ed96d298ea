"""The seed contracts' assessment templates (DOMAIN.md §7), as data.

`load_templates(apps)` takes a model registry so the same data serves the data migration and
`services.template_for` (which fills in a missing template, e.g. after a test flush). An
existing template is left as an administrator may have edited it.

What the contracts say and what is assumed here (they give no weights, no bands and no
deduction amounts: "考核办法另定"):
- items: seed 001 art. 10.1 names 协议履行、理赔时限、服务质量、财务管理、参保人员满意度; the
  same five are used for every contract. Weights ASSUMED 30 / 25 / 20 / 15 / 10.
- 理赔时限 is measured: the share of manual claims paid within their working-day deadline
  (KPI "claims.paid_within_limit_rate", the dashboard's figure; migration 0003 renamed the
  earlier "claims.on_time_rate"); ASSUMED full points from 98 %, 1 point less per percentage
  point below, at least 0. The other four are inspected by the county offices (seed 001 art.
  10.2: 日常考核由各旗县市区医疗保险经办机构负责).
- grades ASSUMED 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, 不合格 below 60 (fails).
- re-review within 30 working days (seeds 002 art. 42, 004 art. 36; used for all four).
- Tongliao (001 art. 3, 11.5): the last 20 % installment (no. 2) is paid "according to the
  assessment up to November": the assessment runs to 11-30; deduction ASSUMED 100,000.00 yuan
  per point below 90, at most the installment.
- Taikang (002 art. 38): the annual deposit (10 % of the fund) is tied to the assessment and
  returned after the year's cases close without objection; Zhenping (004 art. 9): the 10 %
  contract deposit withheld from the premium. Both ASSUMED forfeited in full when the re-review
  fails too (termination warning).
- Beijing (000): no assessment clause beyond service quality; the same items, no money tied.
"""

import datetime as dt
from decimal import Decimal

D = Decimal

ITEMS = [
    # (name, weight, kind, kpi key, full points at, points per unit, what is assessed)
    ("协议履行", D("30"), "inspected", "", None, None, "服务窗口设置、人员配备、信息报送与协议约定事项的履行"),
    ("理赔时限", D("25"), "measured", "claims.paid_within_limit_rate", D("98"), D("1"), "手工报销在约定工作日时限内赔付的比例"),
    ("服务质量", D("20"), "inspected", "", None, None, "窗口服务、咨询答复、投诉处理与服务态度"),
    ("财务管理", D("15"), "inspected", "", None, None, "专户管理、资金拨付、账务处理与报表报送"),
    ("参保人员满意度", D("10"), "inspected", "", None, None, "参保人员满意度调查与回访"),
]
GRADES = [("优秀", D("90"), True), ("良好", D("80"), True), ("合格", D("60"), True), ("不合格", D("0"), False)]

TEMPLATES = {
    "tongliao-2025": {
        "name": "通辽市城乡居民大病保险2025年度考核办法",
        "basis": "协议第十条：日常考核与年度考核相结合，考核协议履行、理赔时限、服务质量、财务管理、参保人员满意度；"
                 "第三条：剩余20%保费根据截止本年度11月份的考核情况拨付；第十一条第5项：按照考核办法对年度保费予以相应扣减。"
                 "权重、等级与每分扣减金额为系统预设，以甲方考核办法为准。",
        "default_period_end": "2025-11-30",
        "deduction_method": "per_point",
        "deduction_threshold": D("90"),
        "deduction_per_point": D("100000.00"),
        "deduction_installment_seq": 2,
    },
    "taikang-2025": {
        "name": "太康县职工大额补充医疗保险2025年度考核办法",
        "basis": "合同第三十八条：年度考核及保证金制度，年度保证金在案件处理完毕且双方无异议后30日内返还；"
                 "第四十二条：考核不合格的，30个工作日内申请复核，复核仍不合格的甲方有权终止合同。"
                 "权重、等级与复核不合格时没收保证金的比例为系统预设，以甲方考核办法为准。",
        "deposit_kind": "annual",
        "deposit_needs_cases_closed": True,
    },
    "zhenping-2026": {
        "name": "镇平县职工大额医疗费用补助2026年度考核办法",
        "basis": "合同第九条：预留总保险费的10%作为合同保证金；第三十六条：年度考核与保证金的拨付挂钩，"
                 "不合格的30个工作日内申请复核，复核仍不合格的甲方有权终止合同。权重与等级为系统预设。",
        "deposit_kind": "contract",
    },
    "beijing-chaoyang-2026": {
        "name": "朝阳区北京普惠健康保2026年度服务考核",
        "basis": "协议未约定考核挂钩的资金，仅记录服务考核结果（服务质量投诉3个工作日内答复见协议）。权重与等级为系统预设。",
    },
}


def load_templates(apps, codes=None) -> int:
    """Create the missing templates of the seed contracts with their items and grades; returns
    how many were created."""
    Contract = apps.get_model("programs", "Contract")
    Template = apps.get_model("assessments", "AssessmentTemplate")
    Item = apps.get_model("assessments", "AssessmentItem")
    Band = apps.get_model("assessments", "GradeBand")
    created = 0
    for code, values in TEMPLATES.items():
        if codes is not None and code not in codes:
            continue
        contract = Contract.objects.filter(code=code).first()
        if contract is None or Template.objects.filter(contract=contract).exists():
            continue
        values = dict(values)
        if values.get("default_period_end"):
            values["default_period_end"] = dt.date.fromisoformat(values["default_period_end"])
        template = Template.objects.create(contract=contract, **values)
        for seq, (name, weight, kind, key, full_at, per_unit, description) in enumerate(ITEMS, start=1):
            Item.objects.create(template=template, seq=seq, name=name, weight=weight, kind=kind, kpi_key=key, full_at=full_at,
                                points_per_unit=per_unit, description=description)
        for label, minimum, passed in GRADES:
            Band.objects.create(template=template, label=label, min_score=minimum, passed=passed)
        created += 1
    return created

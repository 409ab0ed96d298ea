"""A benefit plan as people read it (Chinese labels, percentages, yuan): the plan summary shown
in the admin and on claims' pages.

Here, below claims, because programs owns the benefit plan and shows its summary in the admin;
claims.presentation re-exports these names and adds the claim explanations.
"""

from decimal import Decimal

from django.utils.translation import gettext as _

from claims.engine import ParamRef, Plan

CODE_LABELS = {
    "inpatient": "住院", "outpatient": "门诊", "special_outpatient": "门诊慢特病",
    "accident_inpatient": "意外伤害住院", "student_accident_outpatient": "学生意外伤害门诊", "special_drug": "特药",
    "in_region": "自治区内", "out_of_region": "自治区外", "local": "统筹区内",
    "province_referral": "省内转诊", "out_of_province_referral": "省外转诊", "remote_resident": "异地居住",
    "ordinary": "普通人员", "special": "特殊人群", "active": "在职", "retired": "退休",
    "healthy": "健康人群", "preexisting": "既往症人群",
    "sd1_domestic": "特药1（国内）", "sd1_overseas": "特药1（海外/博鳌乐城）", "sd2": "特药2",
    "drug": "药品", "implant": "植入物/耗材",
}
# Hospital levels (`hosp_lv`) as printed on slips; a separate table: "1"/"2"/"3" mean other
# things elsewhere.
HOSP_LEVEL_LABELS = {"1": "一级", "2": "二级", "3": "三级", "3A": "三级甲等"}
FIELD_LABELS = {
    "inscp_scp_amt": "符合政策范围金额", "hifp_pay": "统筹基金支出", "hifmi_pay": "大病保险支出",
    "hifob_pay": "大额补助支出", "preselfpay_amt": "先行自付金额", "fulamt_ownpay_amt": "全自费金额",
    "over_cap_amt": "超基本医保封顶线合规费用", "drug_amount": "特药金额", "medfee_sumamt": "医疗费总额",
}
ATTRIBUTE_LABELS = {
    "category": "人员类别", "employment": "在职/退休", "health": "健康状况", "continuous_no_claim_3y": "近三年连续参保无出险",
    "student": "学生", "claim_kind": "就诊类型", "place": "就医地", "hosp_lv": "医院等级", "designated": "指定机构购药",
    "drug_list": "特药目录",
}


def yuan(value: Decimal | None) -> str:
    return _("no cap") if value is None else f"{value:,.2f}"


def percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def describe_selector(selector) -> str:
    parts = []
    for name, value in selector.conditions():
        label = ATTRIBUTE_LABELS.get(name, name)
        if isinstance(value, bool):
            parts.append(f"{label}：{'是' if value else '否'}")
        else:
            parts.append(f"{label}：" + "/".join(CODE_LABELS.get(v, v) for v in sorted(value)))
    if selector.enddate_from:
        parts.append(f"出院日期 ≥ {selector.enddate_from:%Y-%m-%d}")
    if selector.enddate_to:
        parts.append(f"出院日期 ≤ {selector.enddate_to:%Y-%m-%d}")
    return "；".join(parts) or "全部"


def plan_summary(plan: Plan) -> list[dict]:
    def amount(value):
        return None if value is None else plan.resolve(value)

    liabilities = []
    for li in plan.liabilities:
        rows = []
        for row in li.schedule:
            lower = amount(row.deductible)
            bands = []
            for band in row.bands:
                upper = amount(band.upper)
                bands.append({"lower": yuan(lower), "upper": "以上" if upper is None else yuan(upper), "rate": percent(band.rate)})
                lower = upper
            rows.append({"when": describe_selector(row.when), "deductible": yuan(amount(row.deductible)),
                         "deductible_param": row.deductible.name if isinstance(row.deductible, ParamRef) else "",
                         "bands": bands})
        liabilities.append({
            "code": li.code,
            "name": li.name,
            "claim_kinds": "、".join(CODE_LABELS.get(k, k) for k in li.claim_kinds),
            "base": " ".join(("＋" if t.sign > 0 else "－") + FIELD_LABELS.get(t.field, t.field) for t in li.base).lstrip("＋"),
            "eligibility": describe_selector(li.eligibility),
            "rows": rows,
            "caps": [{"when": describe_selector(c.when), "amount": yuan(amount(c.amount))} for c in li.caps],
            "item_caps": [{"type": CODE_LABELS.get(c.item_type, c.item_type), "amount": yuan(amount(c.amount))} for c in li.item_caps],
        })
    return liabilities

"""Plans and explanations as people read them (Chinese labels, percentages, yuan)."""

from decimal import Decimal

from django.utils.translation import gettext as _

from .engine import ParamRef, Plan

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


def _y(text: str | None) -> str:
    return "不设封顶" if text is None else f"{Decimal(text):,.2f}"


def explanation_blocks(steps: list[dict]) -> list[dict]:
    """Engine explanation steps as Chinese sentences, grouped per liability, for the
    workbench and the settlement slip."""
    blocks: list[dict] = []
    current: dict | None = None
    names: dict[str, str] = {}
    for s in steps:
        kind = s["step"]
        if kind == "outside_plan":
            blocks.append({"name": "—", "lines": [f"不予计算：{s['reason']}"], "payable": None})
            continue
        code = s.get("liability")
        if "liability_name" in s:
            names[code] = s["liability_name"]
        if current is None or current["code"] != code:
            current = {"code": code, "name": names.get(code, code), "lines": [], "payable": None}
            blocks.append(current)
        lines = current["lines"]
        if kind == "not_covered":
            lines.append(f"不属于本责任保障范围：{s['reason']}")
        elif kind == "base":
            terms = " ".join(
                ("－" if t["sign"] == "-" else "＋") + f"{FIELD_LABELS.get(t['field'], t['field'])} {_y(t['amount'])}"
                for t in s["terms"]
            ).lstrip("＋")
            lines.append(f"计算基数 = {terms} = {_y(s['amount'])}（适用规则：{rule_in_chinese(s['rule'])}）")
            for item in s.get("items", []):
                lines.append(
                    f"单项 {item['code']}（{CODE_LABELS.get(item['type'], item['type'])}）{_y(item['amount'])}，"
                    f"计入基数 {_y(item['counted'])}（此前已计入 {_y(item['counted_before'])}，上限 {_y(item['limit'])}）"
                )
        elif kind == "deductible":
            lines.append(
                f"起付线 {_y(s['amount'])}；年度累计基数 {_y(s['cum_base_before'])} → {_y(s['cum_base_after'])}"
            )
        elif kind == "band":
            lines.append(
                f"分段 ({_y(s['from'])}, {_y(s['to'])}] × {percent(Decimal(s['rate']))} = {Decimal(s['amount']):,}"
            )
        elif kind == "rounding":
            lines.append(f"合计 {Decimal(s['raw']):,} → 四舍五入到分 {_y(s['amount'])}")
        elif kind == "cap":
            if s["limit"] is None:
                lines.append(f"{s['cap_name']}：不设封顶")
            else:
                applied = "，按剩余额度封顶" if s["applied"] else ""
                lines.append(
                    f"{s['cap_name']}封顶线 {_y(s['limit'])}，此前已付 {_y(s['paid_before'])}，剩余 {_y(s['left'])}{applied}"
                )
        elif kind == "payable":
            current["payable"] = s["amount"]
            remaining = "" if s["remaining"] is None else f"；剩余保险金额 {_y(s['remaining'])}"
            lines.append(
                f"本次应付 {_y(s['amount'])}；年度累计赔付 {_y(s['cum_paid_before'])} → {_y(s['cum_paid_after'])}{remaining}"
            )
        elif kind == "deduction":  # the reviewer's deduction (拒付/扣减) on a manual claim
            current["payable"] = s["payable_after"]
            remaining = "" if s["remaining"] is None else f"；剩余保险金额 {_y(s['remaining'])}"
            lines.append(
                f"审核扣减（拒付）{_y(s['amount'])}（{s['reason']}）：核定应付 {_y(s['payable_after'])}；"
                f"年度累计赔付 → {_y(s['cum_paid_after'])}{remaining}"
            )
    return blocks


def rule_in_chinese(rule: str | None) -> str:
    """The engine's "schedule row 2: category=special, place=out_of_region, enddate<=2025-06-30"
    as 第2档：人员类别 特殊人群，就医地 自治区外，出院日期 ≤ 2025-06-30."""
    if not rule or not rule.startswith("schedule row "):
        return rule or ""
    head, _sep, conditions = rule.partition(": ")
    parts = []
    for condition in conditions.split(", "):
        if condition == "any":
            parts.append("适用全部")
        elif condition.startswith("enddate>="):
            parts.append(f"出院日期 ≥ {condition[9:]}")
        elif condition.startswith("enddate<="):
            parts.append(f"出院日期 ≤ {condition[9:]}")
        elif "=" in condition:
            name, value = condition.split("=", 1)
            shown = "/".join({"true": "是", "false": "否"}.get(v, CODE_LABELS.get(v, v)) for v in value.split("|"))
            parts.append(f"{ATTRIBUTE_LABELS.get(name, name)} {shown}")
        else:
            parts.append(condition)
    return f"第{head.removeprefix('schedule row ')}档：" + "，".join(parts)

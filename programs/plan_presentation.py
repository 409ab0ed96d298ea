"""A benefit plan as people read it (Chinese labels, percentages, yuan): the plan summary shown
in the admin and on claims' pages.

Here, below claims, because programs owns the benefit plan and shows its summary in the admin;
claims.presentation re-exports these names and adds the claim explanations.
"""

import re
from decimal import Decimal

from django.utils.translation import gettext as _

from programs.benefit_rules import ParamRef, Plan, PlanFormatError, plan_from_dict, validate_plan

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


# --- the engine's plan checks as the benefit-plan editor reads them -------------------------
#
# `programs.benefit_rules.validation.validate_plan` speaks English with codes ("liability
# critical_illness: schedule row 1: band 3: rate 1.5 outside 0..1"): it is pure and shared
# with the command line. At the boundary to people (the admin's plan form) each message is
# read back — where it points, what is wrong — and said in Chinese with the liability's
# name, the row (with whom it applies to) and the band.

_WHERE = [  # (pattern at the start of the rest of the message, how to name it)
    (re.compile(r"liability with an empty code$"), "liability_empty_code"),
    (re.compile(r"liability (?P<code>[^:]+?)(?=: )"), "liability"),
    (re.compile(r"shared cap (?P<code>[^:]+?)(?=: )"), "shared_cap"),
    (re.compile(r"parameter (?P<name>[^:]+?)(?=: )"), "parameter"),
    (re.compile(r"plan(?: (?P<code>[^:]+?))?(?=: )"), "plan"),
    (re.compile(r"schedule row (?P<n>\d+)(?=: )"), "row"),
    (re.compile(r"cap row (?P<n>\d+)(?=: |$)"), "cap_row"),
    (re.compile(r"band (?P<n>\d+)(?=: )"), "band"),
    (re.compile(r"item cap (?P<type>[a-z_]+)(?=: )"), "item_cap"),
    (re.compile(r"(?P<what>eligibility|when|deductible|upper bound|amount)(?=: )"), "part"),
]
_PARTS = {"eligibility": "适用条件", "when": "适用条件", "deductible": "起付线", "upper bound": "上限", "amount": ""}


def _money_text(text: str) -> str:
    try:
        return f"{Decimal(text):,.2f}"
    except ArithmeticError:
        return text


def _code(value: str) -> str:
    return CODE_LABELS.get(value.strip("'\""), value.strip("'\""))


def _field(value: str) -> str:
    value = value.strip("'\"")
    return FIELD_LABELS.get(value) or {"overlmt_selfpay": "超限价自付", "act_pay_dedc": "实际起付线", "maf_pay": "医疗救助支出",
                                       "psn_cash_pay": "个人现金支付", "psn_part_amt": "个人负担总金额",
                                       "acct_pay": "个人账户支出"}.get(value, value)


def _problem(tail: str, plan: Plan | None) -> str:
    """What is wrong, in Chinese (the part of the message after where it points)."""
    params = {p.name: p.description or p.name for p in (plan.parameters if plan else ())}
    rules: list[tuple[str, object]] = [
        (r"defined twice", "重复定义"),
        (r"negative value (?P<v>\S+)", lambda m: f"取值 {_money_text(m['v'])} 为负数"),
        (r"unknown parameter '(?P<p>[^']*)'", lambda m: f"引用了不存在的参数 {m['p']}"),
        (r"negative amount (?P<v>\S+)", lambda m: f"金额 {_money_text(m['v'])} 为负数"),
        (r"amount (?P<v>\S+) is too large", lambda m: f"金额 {m['v']} 过大"),
        (r"amount (?P<v>\S+) has more than two decimals", lambda m: f"金额 {m['v']} 超过两位小数"),
        (r"empty code", "代码为空"),
        (r"period_start (?P<a>\S+) is after period_end (?P<b>\S+)", lambda m: f"保险期间起始日 {m['a']} 晚于终止日 {m['b']}"),
        (r"the period (?P<a>[\d-]+)\.\.(?P<b>[\d-]+) must lie within year (?P<y>\d+).*",
         lambda m: f"保险期间 {m['a']} – {m['b']} 须在 {m['y']} 年度之内（按出院日期所在年度累计）"),
        (r"unknown place '(?P<c>[^']*)'", lambda m: f"未知的就医地 {m['c']}"),
        (r"no liabilities", "未设任何保险责任"),
        (r"code used twice", "代码重复使用"),
        (r"empty name", "名称为空"),
        (r"empty or duplicate code", "代码为空或重复"),
        (r"covers no liability", "未涵盖任何保险责任"),
        (r"unknown liability '(?P<c>[^']*)'", lambda m: f"涵盖了不存在的保险责任 {m['c']}"),
        (r"covers no claim kind", "未适用任何就诊类型"),
        (r"unknown claim kind '(?P<c>[^']*)'", lambda m: f"未知的就诊类型 {m['c']}"),
        (r"empty base formula", "计算基数公式为空"),
        (r"unknown field '(?P<f>[^']*)' in base formula", lambda m: f"计算基数公式中有未知的金额字段 {m['f']}"),
        (r"base term (?P<f>\S+) has sign (?P<s>\S+) \(must be \+1 or -1\)",
         lambda m: f"计算基数中「{_field(m['f'])}」的符号 {m['s']} 无效（只能为 +1 或 -1）"),
        (r"no schedule rows.*", "未设任何赔付档次（永远不会赔付）"),
        (r"no bands", "未设赔付分段"),
        (r"rate (?P<r>\S+) outside 0\.\.1", lambda m: f"赔付比例 {_rate(m['r'])} 不在 0%–100% 之间"),
        (r"open-ended band is not the last one.*", "不设上限的分段不是最后一段（其后的分段永远达不到）"),
        (r"upper bound (?P<u>\S+) is not above the deductible (?P<p>\S+) \(overlapping bands\)",
         lambda m: f"上限 {_money_text(m['u'])} 不高于起付线 {_money_text(m['p'])}（分段重叠）"),
        (r"upper bound (?P<u>\S+) is not above band (?P<b>\d+)'s upper bound (?P<p>\S+) \(overlapping bands\)",
         lambda m: f"上限 {_money_text(m['u'])} 不高于第{m['b']}段的上限 {_money_text(m['p'])}（分段重叠）"),
        (r"gap above (?P<v>\S+): the last band must be open-ended.*",
         lambda m: f"{params.get(m['v']) or _money_text(m['v'])} 以上没有分段：最后一段须不设上限，限额请用封顶线"),
        (r"item caps need exactly one band with a positive rate.*", "设有单项封顶时，须恰好一个分段且赔付比例大于 0（单项限额 = 封顶额 ÷ 比例）"),
        (r"no cap rows.*", "未设封顶线（不封顶请填金额 null）"),
        (r"unknown item type '(?P<c>[^']*)'", lambda m: f"未知的单项类型 {m['c']}"),
        (r"item type (?P<c>\S+) capped twice", lambda m: f"单项类型「{_code(m['c'])}」重复设置封顶"),
        (r"item cap (?P<c>\S+) is zero", lambda m: f"单项类型「{_code(m['c'])}」的封顶额为 0"),
        (r"(?P<a>[a-z_]+) accepts no value \(empty set\)", lambda m: f"{ATTRIBUTE_LABELS.get(m['a'], m['a'])}没有可取的值（空集合）"),
        (r"unknown (?P<a>[a-z_]+) '(?P<c>[^']*)' \(expected one of (?P<all>.*)\)",
         lambda m: f"{ATTRIBUTE_LABELS.get(m['a'], m['a'])}的取值 {m['c']} 无效（可选："
                   + "、".join(_code(v) for v in m["all"].split(", ")) + "）"),
        (r"place '(?P<c>[^']*)' is not one of the plan's places", lambda m: f"就医地「{_code(m['c'])}」不在本方案的就医地之中"),
        (r"enddate_from (?P<a>\S+) is after enddate_to (?P<b>\S+)", lambda m: f"出院日期起 {m['a']} 晚于出院日期止 {m['b']}"),
    ]
    for pattern, said in rules:
        m = re.fullmatch(pattern, tail)
        if m:
            return said if isinstance(said, str) else said(m)
    return tail


def _rate(text: str) -> str:
    try:
        return percent(Decimal(text))
    except ArithmeticError:
        return text


def plan_problem_in_chinese(message: str, plan: Plan | None = None) -> str:
    """One message of `validate_plan` as the plan editor reads it:
    "liability critical_illness: schedule row 1: band 3: rate 1.5 outside 0..1" →
    "责任「大病保险」第1档（人员类别：普通人员；就医地：自治区内）第3段：赔付比例 150% 不在 0%–100% 之间"."""
    liabilities = {li.code: li for li in (plan.liabilities if plan else ())}
    shared = {c.code: c for c in (plan.shared_caps if plan else ())}
    params = {p.name: p for p in (plan.parameters if plan else ())}
    where: list[str] = []
    liability = None
    rest = message
    while True:
        found = next(((kind, m) for pattern, kind in _WHERE if (m := pattern.match(rest))), None)
        if found is None:
            break
        kind, m = found
        if kind == "liability_empty_code":
            return "有一项保险责任的代码为空"
        if kind == "liability":
            liability = liabilities.get(m["code"])
            where.append(f"责任「{liability.name if liability and liability.name else m['code']}」")
        elif kind == "shared_cap":
            cap = shared.get(m["code"])
            where.append(f"共用保险金额「{cap.name if cap and cap.name else m['code']}」")
        elif kind == "parameter":
            param = params.get(m["name"])
            where.append(f"参数「{param.description if param and param.description else m['name']}」")
        elif kind == "plan":
            where.append("方案")
        elif kind == "row":
            n = int(m["n"])
            row = liability.schedule[n - 1] if liability and n <= len(liability.schedule) else None
            where.append(f"第{n}档" + (f"（{describe_selector(row.when)}）" if row is not None else ""))
        elif kind == "cap_row":
            where.append(f"第{m['n']}条封顶线")
        elif kind == "band":
            where.append(f"第{m['n']}段")
        elif kind == "item_cap":
            where.append(f"「{_code(m['type'])}」单项封顶")
        else:
            where.append(_PARTS[m["what"]])
        rest = rest[m.end():].removeprefix(": ")
        if not rest:
            break
    return ("".join(where) + "：" if where else "") + _problem(rest, plan)


def plan_check_messages(rules, contract=None) -> list[str]:
    """Every problem of a plan document for the benefit-plan editor, in Chinese: the engine's
    structural and business-rule checks, and whether the document belongs to `contract`."""

    try:
        plan = plan_from_dict(rules)
    except (PlanFormatError, TypeError, AttributeError) as exc:
        return [f"规则格式有误：{exc}"]
    problems = [plan_problem_in_chinese(p, plan) for p in validate_plan(plan)]
    if contract is not None:
        if plan.code != contract.code:
            problems.append(f"规则中的方案代码 {plan.code} 与所选合同「{contract.name}」不符（应为 {contract.code}）")
        if (plan.year, plan.period_start, plan.period_end) != (contract.year, contract.period_start, contract.period_end):
            problems.append(
                f"规则中的年度与保险期间（{plan.year} 年，{plan.period_start} – {plan.period_end}）与合同「{contract.name}」"
                f"（{contract.year} 年，{contract.period_start} – {contract.period_end}）不一致"
            )
    return problems

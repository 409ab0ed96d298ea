"""Plans and explanations as people read them (Chinese labels, percentages, yuan)."""

from decimal import Decimal

from programs.plan_presentation import (  # noqa: F401  (re-exported: claims' own readers of a plan)
    ATTRIBUTE_LABELS,
    CODE_LABELS,
    FIELD_LABELS,
    HOSP_LEVEL_LABELS,
    describe_selector,
    percent,
    plan_check_messages,
    plan_problem_in_chinese,
    plan_summary,
    yuan,
)


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

import copy
import json

import pytest
from django.urls import reverse

from programs.models import BenefitPlan
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator():
    return UserFactory(role="administrator", area_codes=["150500"])


def _post(client, bp, rules):
    return client.post(
        reverse("admin:programs_benefitplan_change", args=[bp.pk]),
        {"contract": bp.contract_id, "rules": json.dumps(rules, ensure_ascii=False), "_save": "保存"},
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["liabilities"][0]["schedule"][0]["bands"][1].update(upto="25000"),
         "责任「大病保险」第1档（人员类别：普通人员；就医地：自治区内）第2段：上限 25,000.00 不高于第1段的上限 30,000.00（分段重叠）"),
        (lambda r: r["liabilities"][0]["schedule"][0]["bands"][3].update(upto="90000"),
         "责任「大病保险」第1档（人员类别：普通人员；就医地：自治区内）：90,000.00 以上没有分段：最后一段须不设上限，限额请用封顶线"),
        (lambda r: r["liabilities"][0]["schedule"][0]["bands"][2].update(rate="1.5"),
         "责任「大病保险」第1档（人员类别：普通人员；就医地：自治区内）第3段：赔付比例 150% 不在 0%–100% 之间"),
        (lambda r: r["liabilities"][0]["caps"][0].update(amount="-1"),
         "责任「大病保险」第1条封顶线：金额 -1.00 为负数"),
    ],
)
def test_admin_refuses_invalid_rules_with_a_clear_message(client, administrator, mutate, message):
    bp = BenefitPlan.objects.get(contract__code="tongliao-2025")
    rules = copy.deepcopy(bp.rules)
    # the seed shares band lists between rows; give row 1 its own copy
    rules["liabilities"][0]["schedule"][0]["bands"] = copy.deepcopy(rules["liabilities"][0]["schedule"][0]["bands"])
    mutate(rules)
    client.force_login(administrator)
    response = _post(client, bp, rules)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["rules"] == [message]  # Chinese only, no English repeat
    bp.refresh_from_db()
    assert bp.version == 1 and bp.rules["liabilities"][0]["caps"][0]["amount"] == "380000"


def test_admin_saves_valid_rules_bumps_the_version_and_audits(client, administrator):
    bp = BenefitPlan.objects.get(contract__code="zhenping-2026")
    rules = copy.deepcopy(bp.rules)
    rules["liabilities"][0]["caps"][0]["amount"] = "550000"
    client.force_login(UserFactory(role="administrator", area_codes=["411300"]))
    response = _post(client, bp, rules)
    assert response.status_code == 302
    bp.refresh_from_db()
    assert bp.version == 2 and bp.rules["liabilities"][0]["caps"][0]["amount"] == "550000"
    assert bp.engine_plan().liabilities[0].caps[0].amount == 550000
    assert bp.history.latest().history_change_reason


def test_caseworkers_cannot_edit_rules(client, caseworker):
    bp = BenefitPlan.objects.get(contract__code="tongliao-2025")
    client.force_login(caseworker)
    response = _post(client, bp, bp.rules)
    assert response.status_code == 403


def test_plans_outside_the_users_region_are_not_reachable(client, administrator):
    bp = BenefitPlan.objects.get(contract__code="taikang-2025")
    client.force_login(administrator)
    assert client.get(reverse("admin:programs_benefitplan_change", args=[bp.pk])).status_code == 302


def test_a_named_parameter_is_edited_without_touching_the_json(client):
    """Beijing's critical-illness deductible (30,404) is both a deductible and a band boundary;
    the city changes it yearly."""
    from decimal import Decimal

    from claims.engine import PersonAttributes, SettlementRecord, evaluate_one

    bp = BenefitPlan.objects.get(contract__code="beijing-chaoyang-2026")
    client.force_login(UserFactory(role="administrator", area_codes=["110000"]))
    url = reverse("admin:programs_benefitplan_change", args=[bp.pk])
    assert "param__beijing_ci_deductible" in client.get(url).context["adminform"].form.fields
    response = client.post(url, {"contract": bp.contract_id, "rules": json.dumps(bp.rules, ensure_ascii=False),
                                 "param__beijing_ci_deductible": "31000.00", "_save": "保存"})
    assert response.status_code == 302
    bp.refresh_from_db()
    assert bp.version == 2
    assert [p["value"] for p in bp.rules["parameters"] if p["name"] == "beijing_ci_deductible"] == ["31000.00"]
    record = SettlementRecord(setl_id="B1", psn_no="b", enddate=__import__("datetime").date(2026, 5, 1),
                              claim_kind="inpatient", hosp_lv="2", inscp_scp_amt=Decimal("40000"))
    result, _ = evaluate_one(bp.engine_plan(), PersonAttributes(health="preexisting"), record)
    assert result.by_liability["in_catalog"] == Decimal("3600.00")  # (40,000 − 31,000) × 40 %


ROW1 = "责任「大病保险」第1档（人员类别：普通人员；就医地：自治区内）"


@pytest.mark.parametrize(
    ("engine", "chinese"),
    [
        ("liability critical_illness: schedule row 1: band 3: rate 1.2 outside 0..1",
         f"{ROW1}第3段：赔付比例 120% 不在 0%–100% 之间"),
        ("liability critical_illness: schedule row 1: band 1: upper bound 5 is not above the deductible 14000 (overlapping bands)",
         f"{ROW1}第1段：上限 5.00 不高于起付线 14,000.00（分段重叠）"),
        ("liability critical_illness: schedule row 2: when: unknown place 'mars' (expected one of in_region, out_of_region)",
         "责任「大病保险」第2档（人员类别：普通人员；就医地：自治区外；出院日期 ≥ 2025-07-01）适用条件："
         "就医地的取值 mars 无效（可选：自治区内、自治区外）"),
        ("liability critical_illness: eligibility: category accepts no value (empty set)",
         "责任「大病保险」适用条件：人员类别没有可取的值（空集合）"),
        ("liability accident_basic: no cap rows (use amount null for 'no cap')",
         "责任「意外伤害住院（基本医疗保险部分）」：未设封顶线（不封顶请填金额 null）"),
        ("liability critical_illness: base term hifp_pay has sign 2 (must be +1 or -1)",
         "责任「大病保险」：计算基数中「统筹基金支出」的符号 2 无效（只能为 +1 或 -1）"),
        ("plan tongliao-2025: no liabilities", "方案：未设任何保险责任"),
        ("liability with an empty code", "有一项保险责任的代码为空"),
    ],
)
def test_engine_messages_are_said_in_chinese_with_the_liability_row_and_band_named(engine, chinese):
    from claims.engine import seed_plans
    from claims.presentation import plan_problem_in_chinese

    assert plan_problem_in_chinese(engine, seed_plans()["tongliao-2025"]) == chinese


def test_every_problem_of_a_broken_plan_reads_in_chinese_without_codes(client, administrator):
    """Beijing's plan with two liabilities broken: each message names the liability by its
    name; none carries a liability code or the engine's English."""
    from claims.presentation import plan_check_messages

    bp = BenefitPlan.objects.get(contract__code="beijing-chaoyang-2026")
    rules = copy.deepcopy(bp.rules)
    rules["liabilities"][1]["schedule"][0]["bands"][0]["rate"] = "-0.1"
    rules["liabilities"][1]["item_caps"][0]["amount"] = "0"
    rules["shared_caps"][0]["amount"] = "-1"
    messages = plan_check_messages(rules, bp.contract)
    row = "责任「医保外责任」第1档（健康状况：健康人群；近三年连续参保无出险：是）"
    assert messages == [
        f"{row}第1段：赔付比例 -10% 不在 0%–100% 之间",
        f"{row}：设有单项封顶时，须恰好一个分段且赔付比例大于 0（单项限额 = 封顶额 ÷ 比例）",
        "责任「医保外责任」：单项类型「药品」的封顶额为 0",
        "共用保险金额「国内特药」：金额 -1.00 为负数",
    ]
    codes = [li["code"] for li in rules["liabilities"]] + [c["code"] for c in rules["shared_caps"]]
    assert not any(word in m for m in messages for word in [*codes, "liability", "band", "row", "rate"])
    # through the admin form: the same messages, and only these
    client.force_login(UserFactory(role="administrator", area_codes=["110105"]))
    response = _post(client, bp, rules)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["rules"] == messages
    bp.refresh_from_db()
    assert bp.version == 1

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
         "规则校验失败：liability critical_illness: schedule row 1: band 2: upper bound 25000 is not above band 1's upper bound 30000 (overlapping bands)"),
        (lambda r: r["liabilities"][0]["schedule"][0]["bands"][3].update(upto="90000"),
         "规则校验失败：liability critical_illness: schedule row 1: gap above 90000: the last band must be open-ended (upto null); limit payments with caps"),
        (lambda r: r["liabilities"][0]["schedule"][0]["bands"][2].update(rate="1.5"),
         "规则校验失败：liability critical_illness: schedule row 1: band 3: rate 1.5 outside 0..1"),
        (lambda r: r["liabilities"][0]["caps"][0].update(amount="-1"),
         "规则校验失败：liability critical_illness: cap row 1: negative amount -1"),
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
    assert message in response.context["adminform"].form.errors["rules"]
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

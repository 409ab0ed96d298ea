"""试算 at the window: the form follows the contract's rules, the result explains every step in
Chinese and starts from the person's approved totals; nothing is written."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from claims.engine import SettlementRecord
from claims.models import Accumulator, Calculation
from claims.services import calculation_commit
from programs.models import Contract

pytestmark = pytest.mark.django_db


def _form(rows):
    data = {"r-TOTAL_FORMS": "3", "r-INITIAL_FORMS": "0", "r-MIN_NUM_FORMS": "0", "r-MAX_NUM_FORMS": "20"}
    for i, row in enumerate(rows):
        data.update({f"r-{i}-{k}": v for k, v in row.items()})
    return data


def test_tongliao_form_asks_for_what_the_rules_use(client, caseworker, horqin_person):
    client.force_login(caseworker)
    response = client.get(reverse("trial", args=[horqin_person.pk, "tongliao-2025"]))
    assert response.status_code == 200
    fields = list(response.context["formset"].forms[0].fields)
    assert fields == ["setl_id", "enddate", "claim_kind", "place", "inscp_scp_amt", "hifp_pay"]


def test_beijing_form_has_items_drug_fields_and_hospital_level(client, db):
    from programs.models import Area
    from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

    user = UserFactory(role="caseworker", area_codes=["110105"])
    person = EnrollmentFactory(
        person=PersonFactory(area_code="110105"), contract=Contract.objects.get(code="beijing-chaoyang-2026"),
        area=Area.objects.get(code="110105"),
    ).person
    client.force_login(user)
    fields = set(client.get(reverse("trial", args=[person.pk, "beijing-chaoyang-2026"])).context["formset"].forms[0].fields)
    assert {"hosp_lv", "designated", "drug_list", "drug_amount", "fulamt_ownpay_amt", "preselfpay_amt", "hifmi_pay", "items"} <= fields
    assert "place" not in fields


def test_trial_shows_the_worked_example_on_top_of_approved_totals(client, caseworker, horqin_person):
    contract = Contract.objects.get(code="tongliao-2025")
    calculation_commit(contract=contract, person=horqin_person, records=[SettlementRecord(
        setl_id="S1", psn_no="", enddate=dt.date(2025, 3, 2), claim_kind="inpatient", place="in_region",
        inscp_scp_amt=Decimal("52000"), hifp_pay=Decimal("30000"))])
    client.force_login(caseworker)
    response = client.post(
        reverse("trial", args=[horqin_person.pk, "tongliao-2025"]),
        _form([{"enddate": "2025-05-02", "claim_kind": "inpatient", "place": "in_region", "inscp_scp_amt": "70000",
                "hifp_pay": "30000"}]),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "应付金额 <b class=\"amount\">28,400.00</b> 元" in body
    assert "计算基数 = 符合政策范围金额 70,000.00 －统筹基金支出 30,000.00 = 40,000.00" in body
    assert "起付线 14,000.00；年度累计基数 22,000.00 → 62,000.00" in body
    assert "分段 (22,000.00, 30,000.00] × 60% = 4,800.00" in body
    assert "分段 (30,000.00, 50,000.00] × 70% = 14,000.00" in body
    assert "分段 (50,000.00, 62,000.00] × 80% = 9,600.00" in body
    assert "大病保险封顶线 380,000.00，此前已付 4,800.00，剩余 375,200.00" in body
    assert "本次应付 28,400.00；年度累计赔付 4,800.00 → 33,200.00；剩余保险金额 346,800.00" in body
    assert Calculation.objects.count() == 1
    assert Accumulator.objects.get(code="critical_illness").cumulative_paid == Decimal("4800.00")


def test_bad_amount_is_refused_on_the_field(client, caseworker, horqin_person):
    client.force_login(caseworker)
    response = client.post(
        reverse("trial", args=[horqin_person.pk, "tongliao-2025"]),
        _form([{"enddate": "2025-05-02", "claim_kind": "inpatient", "place": "in_region", "inscp_scp_amt": "12,3a"}]),
    )
    assert response.context["formset"].forms[0].errors["inscp_scp_amt"] == ["符合政策范围金额：“12,3a”不是金额。"]
    assert response.context["results"] is None


def test_trial_outside_the_users_area_or_contract_is_404(client, caseworker, kailu_person, horqin_person):
    client.force_login(caseworker)
    assert client.get(reverse("trial", args=[kailu_person.pk, "tongliao-2025"])).status_code == 404
    assert client.get(reverse("trial", args=[horqin_person.pk, "taikang-2025"])).status_code == 404


def test_supervisors_cannot_run_trials(client, supervisor, horqin_person):
    client.force_login(supervisor)
    assert client.get(reverse("trial", args=[horqin_person.pk, "tongliao-2025"])).status_code == 403


def test_pasted_records_are_calculated(client, caseworker, horqin_person):
    client.force_login(caseworker)
    pasted = ('[{"setl_id": "P-1", "enddate": "2025-03-02", "claim_kind": "inpatient", "place": "in_region", '
              '"inscp_scp_amt": "52000.00", "hifp_pay": "30000.00"}, {"setl_id": "P-2", "enddate": "2025-05-02", '
              '"claim_kind": "inpatient", "place": "in_region", "inscp_scp_amt": 70000, "hifp_pay": 30000}]')
    response = client.post(reverse("trial", args=[horqin_person.pk, "tongliao-2025"]), {**_form([]), "pasted": pasted})
    assert [(r["setl_id"], r["payable"]) for r in response.context["results"]] == [
        ("P-1", Decimal("4800.00")), ("P-2", Decimal("28400.00"))]


def test_a_bad_paste_names_the_record_and_field(client, caseworker, horqin_person):
    client.force_login(caseworker)
    pasted = '[{"setl_id": "P-1", "enddate": "2025-03-02", "claim_kind": "inpatient", "place": "in_region", "inscp_scp_amt": "12,3a"}]'
    response = client.post(reverse("trial", args=[horqin_person.pk, "tongliao-2025"]), {**_form([]), "pasted": pasted})
    assert response.context["results"] is None
    assert 'settlement P-1 (index 0): field inscp_scp_amt: malformed amount "12,3a"' in response.context["paste_error"]

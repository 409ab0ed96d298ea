"""Issue 23 item 3: the registration grid asks first for what this contract pays on (read
from its plan), offers hospital levels and places as words, defaults its dates to today, takes
amounts with thousands separators, and the claim page's buttons say what they do."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import services
from claims.forms import ClaimRegistrationForm, SettlementRecordFormSet, payout_fields
from claims.models import Claim, DocumentRequirement
from claims.registration import requirements_for
from claims.workflow import TRANSITIONS, transition_verb
from programs.models import Area, Contract
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Claim.Status


def _plan(code):
    return services.plan_of(Contract.objects.get(code=code)).engine_plan()


def _record_form(code):
    return SettlementRecordFormSet(plan=_plan(code), prefix="r").forms[0]


@pytest.mark.parametrize(("code", "payout"), [
    ("taikang-2025", ["over_cap_amt"]),
    ("zhenping-2026", ["over_cap_amt"]),
    ("tongliao-2025", ["inscp_scp_amt", "hifp_pay"]),
    ("beijing-chaoyang-2026", ["inscp_scp_amt", "preselfpay_amt", "hifp_pay", "hifmi_pay", "fulamt_ownpay_amt",
                               "drug_amount"]),
])
def test_the_fields_the_contract_pays_on_come_first(code, payout):
    form = _record_form(code)
    assert payout_fields(_plan(code)) == payout
    first = payout + (["items"] if "fulamt_ownpay_amt" in payout else [])  # Beijing's out-of-catalog lines
    assert form.payout_names == first and list(form.fields)[:len(first)] == first
    assert [f.name for f in form.payout_group()] == first
    assert list(form.fields)[len(first)] == "setl_id"
    assert "over_cap_amt" not in form.fields or code in ("taikang-2025", "zhenping-2026")


def test_the_zhenping_grid_leads_with_the_amount_above_the_basic_cap():
    form = _record_form("zhenping-2026")
    assert str(form.payout_group()[0].label) == "超基本医保封顶线合规费用"


def test_hospital_levels_and_places_read_as_words():
    form = ClaimRegistrationForm(plan=_plan("tongliao-2025"), requirements=DocumentRequirement.objects.none(), prefix="c")
    assert form.fields["hosp_lv"].choices == [("", "—"), ("1", "一级"), ("2", "二级"), ("3", "三级"), ("3A", "三级甲等")]
    assert form.fields["place"].choices == [("", "—"), ("in_region", "自治区内"), ("out_of_region", "自治区外")]
    taikang = ClaimRegistrationForm(plan=_plan("taikang-2025"), requirements=DocumentRequirement.objects.none(), prefix="c")
    assert [label for _value, label in taikang.fields["place"].choices] == ["—", "统筹区内", "省内转诊", "省外转诊", "异地居住"]


def test_dates_default_to_today_inside_the_insurance_year_and_round_trip_as_iso(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda: dt.date(2026, 5, 12))
    form = ClaimRegistrationForm(plan=_plan("zhenping-2026"), requirements=DocumentRequirement.objects.none(), prefix="c")
    html = str(form["enddate"])
    assert 'type="date"' in html and 'value="2026-05-12"' in html
    assert 'value="2026-05-12"' in str(form["received_on"])
    # last year's contract: the discharge date is typed, not defaulted to a date it would refuse
    old = ClaimRegistrationForm(plan=_plan("tongliao-2025"), requirements=DocumentRequirement.objects.none(), prefix="c")
    assert "value=" not in str(old["enddate"]) and 'value="2026-05-12"' in str(old["received_on"])
    # what the date input sends back is read as the same day
    bound = ClaimRegistrationForm({"c-enddate": "2026-05-12"}, plan=_plan("zhenping-2026"),
                                  requirements=DocumentRequirement.objects.none(), prefix="c")
    bound.is_valid()
    assert bound.cleaned_data["enddate"] == dt.date(2026, 5, 12)


def test_amount_inputs_are_text_with_a_decimal_keypad_so_the_browser_keeps_commas():
    html = str(_record_form("zhenping-2026")["over_cap_amt"])
    assert 'type="text"' in html and 'inputmode="decimal"' in html and 'type="number"' not in html


def test_a_caseworker_registers_ten_million_typed_with_separators(client):
    cw = UserFactory(username="cw_zp_grid", role="caseworker", area_codes=["411324"])
    contract = Contract.objects.get(code="zhenping-2026")
    person = EnrollmentFactory(person=PersonFactory(name="李建国", area_code="411324"), contract=contract,
                               area=Area.objects.get(code="411324")).person
    docs = requirements_for(program=contract.program, claim_kind="inpatient", place="")
    client.force_login(cw)
    url = reverse("claim_register", args=[person.pk, contract.code])
    data = {
        "c-claim_kind": "inpatient", "c-fixmedins_name": "南阳市中心医院", "c-hosp_lv": "3A",
        "c-enddate": "2026-03-02", "c-received_on": "2026-03-05", "c-documents": [str(d.pk) for d in docs],
        "r-TOTAL_FORMS": "1", "r-INITIAL_FORMS": "0", "r-MIN_NUM_FORMS": "0", "r-MAX_NUM_FORMS": "20",
        "r-0-over_cap_amt": "1,234,567.89", "r-0-setl_id": "ZP-GRID-1", "r-0-medfee_sumamt": "10,000,000.00",
        "r-0-inscp_scp_amt": "10,000,000.00", "r-0-hifp_pay": "80,000.00",
    }
    response = client.post(url, data)
    claim = Claim.objects.get()
    assert response.status_code == 302 and response.url == reverse("claim_detail", args=[claim.pk])
    record = claim.settlements.get()
    assert (record.medfee_sumamt, record.inscp_scp_amt, record.hifp_pay, record.over_cap_amt, record.hosp_lv) == (
        Decimal("10000000.00"), Decimal("10000000.00"), Decimal("80000.00"), Decimal("1234567.89"), "3A")
    # a misplaced comma is refused with the field named
    data["r-0-setl_id"], data["r-0-over_cap_amt"] = "ZP-GRID-2", "1,23,4567.89"
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert refused.context["formset"].forms[0].errors["over_cap_amt"] == ["超基本医保封顶线合规费用：“1,23,4567.89”不是金额。"]


def test_every_transition_has_a_verb_and_the_claim_page_shows_verbs(client, caseworker, horqin_person):
    from tests.claims.test_claim_registration import _register

    verbs = {(f, t): transition_verb(f, t) for f, targets in TRANSITIONS.items() for t in targets}
    assert verbs == {
        (S.REGISTERED, S.DOCUMENTS_COMPLETE): "确认材料齐全", (S.REGISTERED, S.WITHDRAWN): "撤回",
        (S.REGISTERED, S.REJECTED): "拒付",
        (S.DOCUMENTS_COMPLETE, S.CALCULATED): "试算", (S.DOCUMENTS_COMPLETE, S.WITHDRAWN): "撤回",
        (S.DOCUMENTS_COMPLETE, S.REJECTED): "拒付",
        (S.CALCULATED, S.SUBMITTED): "提交审核", (S.CALCULATED, S.WITHDRAWN): "撤回",
        (S.SUBMITTED, S.APPROVED): "审核通过", (S.SUBMITTED, S.RETURNED): "退回", (S.SUBMITTED, S.REJECTED): "拒付",
        (S.RETURNED, S.DOCUMENTS_COMPLETE): "确认材料齐全", (S.RETURNED, S.CALCULATED): "重新试算",
        (S.RETURNED, S.WITHDRAWN): "撤回",
        (S.APPROVED, S.PAID): "登记付款",
    }
    claim = _register(caseworker, horqin_person)
    client.force_login(caseworker)
    page = client.get(reverse("claim_detail", args=[claim.pk]))
    buttons = [(a["to"], a["label"]) for a in page.context["actions"]]
    assert buttons == [(S.CALCULATED, "试算"), (S.WITHDRAWN, "撤回")]
    html = page.content.decode()
    assert '<button type="submit" name="to" value="calculated" class="primary">试算</button>' in html
    assert ">材料齐全</button>" not in html and ">已撤回</button>" not in html

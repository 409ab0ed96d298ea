"""Reviewers decide with the facts in front of them (issue 19, item 6): the claim page shows the
engine's band-by-band explanation, the platform check and the duplicate warnings above the
approve button; approving needs a confirmation that works without JavaScript; a reviewer's
deduction (拒付/扣减) on a manual claim reduces the payable exactly, is audited, is on the slip
and in the reports, and is refused by name when negative or larger than the payable."""

import csv
import datetime as dt
import io
import shutil
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from claims.models import Accumulator, Calculation, Claim, ClaimStatusChange, Deduction
from claims.workflow import TransitionRefused, claim_deduction_record, claim_transition
from finance import services as finance_services
from finance.selectors import claims_paid
from programs.models import Contract
from tests.claims.test_claim_registration import _record, _register
from tests.claims.test_slip import pdf_pages, pdf_text
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = Claim.Status
CONFIRM = {"to": "approved", "confirm_review": "1"}


def _submitted(caseworker, person, **kwargs):
    """Tongliao, ordinary, in region: base 52,000 − 30,000 = 22,000 → (22,000 − 14,000) × 60 % = 4,800.00."""
    claim = _register(caseworker, person, **kwargs)
    claim_transition(claim=claim, to=S.CALCULATED, user=caseworker)
    return claim_transition(claim=claim, to=S.SUBMITTED, user=caseworker)


def _deduct(claim, user, amount, reason="不合规费用：目录外自费药品"):
    return claim_deduction_record(claim=claim, settlement=claim.settlements.get(), amount=D(amount), reason=reason,
                                  user=user)


# --- the page -------------------------------------------------------------------------------


def test_explanation_platform_check_and_duplicate_warning_come_before_the_approve_button(
        client, caseworker, reviewer, horqin_person):
    first = _register(caseworker, horqin_person)
    # the same stay registered again (confirmed as not a duplicate at the window)
    claim = _submitted(caseworker, horqin_person, records=[_record(setl_id="M-002")], confirm_duplicate=True)
    client.force_login(reviewer)
    page = client.get(reverse("claim_detail", args=[claim.pk])).text
    explanation = page.index('id="review-explanation"')
    band = page.index("分段 (14,000.00, 22,000.00] × 60% = 4,800.00")
    platform = page.index("统筹基金支付 30,000.00 ≤ 符合政策范围金额 52,000.00。")
    identity = page.index("医疗费总额 52,000.00 = 全自费 + 超限价自付 + 先行自付 + 符合政策范围金额。")
    platform_paid = page.index("平台未在此结算记录上支付（大病保险支出 0.00）。")
    duplicate = page.index(f'<a href="/claims/{first.pk}/">理赔 {first.claim_no}（材料齐全）</a>')
    coverage = page.index("出院日期 2025-03-02 在保：普通人员 · 在职。")
    approve = page.index('value="approved"')
    assert max(explanation, band, platform, identity, platform_paid, duplicate, coverage) < approve
    assert "起付线 14,000.00" in page and "计算金额 <b>4,800.00</b>" in page
    # the confirmation is a required checkbox in the approve form itself: no JavaScript needed
    form = page[page.index('id="approve-form"'):]
    form = form[:form.index("</form>")]
    assert 'name="confirm_review" value="1" id="confirm-review" required' in form and 'value="approved"' in form
    assert "我已核对上方的计算过程、平台核对和重复提示。" in form


def test_a_platform_payment_on_a_manual_record_is_flagged(client, caseworker, reviewer, horqin_person):
    claim = _submitted(caseworker, horqin_person, records=[_record(hifmi_pay=D("4800.00"))])
    client.force_login(reviewer)
    page = client.get(reverse("claim_detail", args=[claim.pk])).text
    flag = page.index("平台已在此结算记录上支付 4,800.00（大病保险支出）：手工再付即为重复支付。")
    assert flag < page.index('value="approved"')


def test_approving_without_the_confirmation_is_refused_and_changes_nothing(client, caseworker, reviewer, horqin_person):
    claim = _submitted(caseworker, horqin_person)
    client.force_login(reviewer)
    response = client.post(reverse("claim_transition", args=[claim.pk]), {"to": "approved"}, follow=True)
    assert "审批前须先勾选确认：已核对计算过程、平台核对和重复提示。" in response.text
    claim.refresh_from_db()
    assert (claim.status, claim.payable) == (S.SUBMITTED, None)
    assert not Accumulator.objects.exists() and not Calculation.objects.exists()
    client.post(reverse("claim_transition", args=[claim.pk]), CONFIRM)
    claim.refresh_from_db()
    assert (claim.status, claim.payable) == (S.APPROVED, D("4800.00"))


# --- deductions -----------------------------------------------------------------------------


def test_a_deduction_reduces_the_payable_exactly_and_is_audited(client, caseworker, reviewer, horqin_person):
    claim = _submitted(caseworker, horqin_person)
    client.force_login(reviewer)
    response = client.post(reverse("claim_deduction", args=[claim.pk]), {
        "d-settlement": str(claim.settlements.get().pk), "d-amount": "800.00", "d-reason": "不合规费用：目录外自费药品"},
        follow=True)
    assert "已在结算记录 M-001 上登记扣减 800.00" in response.text
    deduction = Deduction.objects.get()
    assert (deduction.claim, deduction.batch, deduction.amount, deduction.recorded_by) == (claim, None, D("800.00"), reviewer)
    history = deduction.history.get()
    assert (history.history_type, history.history_user, history.amount) == ("+", reviewer, D("800.00"))
    page = response.text
    assert "扣减后 <b id=\"review-total\">4,000.00</b>" in page
    assert "审核扣减（拒付）800.00（不合规费用：目录外自费药品）：核定应付 4,000.00" in page
    assert page.index('id="deductions"') < page.index('value="approved"')

    client.post(reverse("claim_transition", args=[claim.pk]), CONFIRM)
    claim.refresh_from_db()
    assert (claim.status, claim.payable) == (S.APPROVED, D("4000.00"))
    calc = Calculation.objects.get(claim=claim)
    assert (calc.payable, calc.by_liability) == (D("4000.00"), {"critical_illness": "4000.00"})
    step = next(s for s in calc.explanation if s["step"] == "deduction")
    assert (step["amount"], step["payable_after"], step["cum_paid_after"]) == ("800.00", "4000.00", "4000.00")
    # the person's totals: the base counts in full, only what is paid counts toward the cap
    acc = Accumulator.objects.get(person=horqin_person, code="critical_illness")
    assert (acc.cumulative_base, acc.cumulative_paid) == (D("22000.00"), D("4000.00"))
    # the reports and the export read the approved amount
    contract = Contract.objects.get(code="tongliao-2025")
    assert claims_paid(contract, None)[0] == D("4000.00")
    export = client.get(reverse("claim_list"), {"export": "csv"}).content.decode("utf-8-sig")
    assert [r["核定赔付金额"] for r in csv.DictReader(io.StringIO(export))] == ["4000.00"]


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")
def test_the_slip_shows_the_deduction_and_the_reduced_payable(client, caseworker, reviewer, horqin_person, tmp_path):
    claim = _submitted(caseworker, horqin_person)
    _deduct(claim, reviewer, "800.00")
    claim = claim_transition(claim=claim, to=S.APPROVED, user=reviewer)
    client.force_login(caseworker)
    pdf = client.post(reverse("claim_slip", args=[claim.pk])).content
    assert pdf_pages(pdf, tmp_path) == 1
    text = pdf_text(pdf, tmp_path)
    assert "审核扣减（拒付/扣减）：M-001 −800.00（不合规费用：目录外自费药品）；扣减合计 −800.00" in text
    assert "大病保险4,000.000.004,000.00376,000.00" in text  # paid by this claim, before, after, remaining
    assert "审核扣减（拒付）800.00（不合规费用：目录外自费药品）：核定应付 4,000.00" in text
    assert "¥4,000.00" in text and "肆仟元整" in text and "¥4,800.00" not in text


def test_a_deduction_larger_than_the_payable_or_negative_is_refused_naming_the_field(
        client, caseworker, reviewer, horqin_person):
    claim = _submitted(caseworker, horqin_person)
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as exc:
            _deduct(claim, reviewer, "4800.01")
        assert exc.value.messages == [
            "扣减金额：再扣减 4,800.01 后，结算记录 M-001 的扣减合计为 4,800.01，超过其应付金额 4,800.00。"]
        with pytest.raises(ValidationError) as exc:
            _deduct(claim, reviewer, "-1.00")
        assert exc.value.messages == ["扣减金额：不能为负数。"]
        with pytest.raises(ValidationError) as exc:
            _deduct(claim, reviewer, "0.00")
        assert exc.value.messages == ["扣减金额：必须大于零。"]
        with pytest.raises(ValidationError) as exc:
            _deduct(claim, reviewer, "100.00", reason="  ")
        assert exc.value.messages == ["扣减原因：请写明扣减的理由。"]
        _deduct(claim, reviewer, "4000.00")
        with pytest.raises(ValidationError) as exc:  # together with the first, above the payable
            _deduct(claim, reviewer, "800.01")
        assert exc.value.messages == [
            "扣减金额：再扣减 800.01 后，结算记录 M-001 的扣减合计为 4,800.01，超过其应付金额 4,800.00。"]
    assert list(Deduction.objects.values_list("amount", flat=True)) == [D("4000.00")]
    # through the page: a negative amount is refused by the form, naming the field
    client.force_login(reviewer)
    response = client.post(reverse("claim_deduction", args=[claim.pk]), {
        "d-settlement": str(claim.settlements.get().pk), "d-amount": "-5", "d-reason": "x"}, follow=True)
    assert "扣减金额：" in response.text and Deduction.objects.count() == 1
    # the whole payable may be deducted: the claim then pays 0.00
    _deduct(claim, reviewer, "800.00")
    assert claim_transition(claim=claim, to=S.APPROVED, user=reviewer).payable == D("0.00")


def test_approval_refuses_deductions_above_what_the_engine_pays_then(caseworker, reviewer, horqin_person):
    claim = _submitted(caseworker, horqin_person)
    # recorded behind the service's back (or the payable fell since): approval checks again under the lock
    Deduction.objects.create(settlement=claim.settlements.get(), claim=claim, amount=D("5000.00"), reason="x",
                             recorded_by=reviewer)
    with translation.override("zh-hans"), pytest.raises(TransitionRefused) as exc:
        claim_transition(claim=claim, to=S.APPROVED, user=reviewer)
    assert exc.value.messages == ["扣减金额：结算记录 M-001 的扣减合计 5,000.00，超过其应付金额 4,800.00。"]
    claim.refresh_from_db()
    assert (claim.status, claim.payable) == (S.SUBMITTED, None) and not Accumulator.objects.exists()


def test_only_a_reviewer_deducts_and_only_while_the_claim_is_under_review(client, caseworker, reviewer, horqin_person):
    claim = _submitted(caseworker, horqin_person)
    with pytest.raises(PermissionDenied):
        _deduct(claim, caseworker, "100.00")
    client.force_login(caseworker)
    response = client.post(reverse("claim_deduction", args=[claim.pk]), {
        "d-settlement": str(claim.settlements.get().pk), "d-amount": "100.00", "d-reason": "x"})
    assert response.status_code == 403
    assert 'id="deductions"' not in client.get(reverse("claim_detail", args=[claim.pk])).text
    approved = claim_transition(claim=claim, to=S.APPROVED, user=reviewer)
    with translation.override("zh-hans"), pytest.raises(TransitionRefused) as exc:
        _deduct(approved, reviewer, "100.00")
    assert exc.value.messages == ["扣减只能在理赔提交审核期间登记。"]
    assert not Deduction.objects.exists()


def test_a_taikang_claim_with_a_deduction_moves_the_revolving_fund_by_the_reduced_amount(client):
    """Retired, local, level-2 hospital: over_cap_amt 20,000 × 90 % = 18,000.00; 1,500.00 deducted:
    16,500.00 paid from the revolving fund, and the reversal puts exactly that back."""
    from finance.models import LedgerEntry
    from programs.models import Area
    from tests.factories import EnrollmentFactory, PersonFactory

    contract, area = Contract.objects.get(code="taikang-2025"), Area.objects.get(code="411627")
    person = EnrollmentFactory(person=PersonFactory(area_code="411627"), contract=contract, area=area,
                               employment="retired").person
    caseworker = UserFactory(role="caseworker", area_codes=["411627"])
    reviewer = UserFactory(role="reviewer", area_codes=["411600"])
    finance = UserFactory(role="finance", area_codes=["411600"])
    fund = finance_services.revolving_fund_open(contract=contract, last_year_income=D("8200000.00"), user=finance)
    finance_services.revolving_fund_record_opening(fund=fund, amount=D("410000.00"), paid_on=dt.date(2025, 1, 8), user=finance)
    claim = Claim.objects.create(claim_no="TK-1", contract=contract, person=person, area=area, registered_by=caseworker,
                                 status=S.SUBMITTED, enddate=dt.date(2025, 3, 10), fixmedins_name="太康县人民医院",
                                 place="local", bank_account="6228480000000000000")
    claim.settlements.create(contract=contract, person=person, area=area, source="manual", setl_id="TK-1-1",
                             psn_no=person.psn_no or "", enddate=dt.date(2025, 3, 10), claim_kind="inpatient",
                             place="local", hosp_lv="2", over_cap_amt=D("20000.00"), inscp_scp_amt=D("106000.00"),
                             hifp_pay=D("80000.00"), medfee_sumamt=D("106000.00"))
    _deduct(claim, reviewer, "1500.00", reason="超标准收费")
    claim = claim_transition(claim=claim, to=S.APPROVED, user=reviewer)
    assert claim.payable == D("16500.00")
    claim_transition(claim=claim, to=S.PAID, user=finance, paid_on=dt.date(2025, 3, 25), voucher_no="记-0325-09")
    fund.refresh_from_db()
    assert fund.balance == D("393500.00")  # 410,000.00 − 16,500.00
    entry = LedgerEntry.objects.get(claim=claim)
    finance_services.ledger_entry_reverse(entry=entry, reason="银行退票", user=finance, booked_on=dt.date(2025, 4, 2))
    fund.refresh_from_db()
    claim.refresh_from_db()
    assert (fund.balance, claim.status, claim.paid_on) == (D("410000.00"), S.APPROVED, None)
    assert ClaimStatusChange.objects.filter(claim=claim, from_status=S.PAID, to_status=S.APPROVED, by=finance).count() == 1

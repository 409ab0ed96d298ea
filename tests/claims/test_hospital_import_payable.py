"""What a batch owes the hospital and by when: platform paid − fully confirmed deductions −
recoveries offset; due dates from per-contract terms (Tongliao: the 30th of the next month;
Taikang: 15 working days after the report, across the 2025 National Day holiday and its
make-up days; other contracts: by agreement)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from claims import imports
from claims.models import Deduction, HospitalBatch, HospitalSettlementTerms, Recovery, Settlement
from programs.models import Area, Contract
from tests.claims.hospital_files import (
    csv_bytes,
    media_root,  # noqa: F401 (autouse)
    tongliao_row,
    upload,
)
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def finance(db):
    return UserFactory(username="fin", role="finance", area_codes=["150500", "411600"])


@pytest.fixture
def reviewer_user(db):
    return UserFactory(username="rev", role="reviewer", area_codes=["150500"])


def run(contract_code, rows, user, month, reported_on=dt.date(2025, 4, 5), columns=None) -> HospitalBatch:
    contract = Contract.objects.get(code=contract_code)
    batch = imports.batch_upload(contract=contract, month=month, reported_on=reported_on, user=user,
                                 uploaded_file=upload(csv_bytes(rows, columns=columns)))
    batch = imports.batch_validate(batch.pk)
    assert batch.status == "validated", imports.rendered_errors(batch.errors)
    imports.batch_confirm(batch=batch, user=user)
    return imports.batch_apply(batch.pk)


def test_seeded_terms_are_data():
    terms = {t.contract.code: (t.rule, t.pay_day, t.report_by_day, t.working_days)
             for t in HospitalSettlementTerms.objects.select_related("contract")}
    assert terms == {"tongliao-2025": ("day_of_next_month", 30, None, None),
                     "taikang-2025": ("working_days_after_report", None, 10, 15)}


@pytest.mark.parametrize(("month", "due"), [
    (dt.date(2025, 3, 1), dt.date(2025, 4, 30)),
    (dt.date(2025, 1, 1), dt.date(2025, 2, 28)),  # February has no 30th: its last day
    (dt.date(2025, 12, 1), dt.date(2026, 1, 30)),
])
def test_tongliao_pays_last_months_advances_by_the_30th_of_the_next_month(finance, month, due):
    person = EnrollmentFactory(person=PersonFactory()).person
    row = tongliao_row("S1", person, enddate=month.replace(day=15).isoformat(), begndate=month.isoformat())
    batch = run("tongliao-2025", [row], finance, month)
    assert (batch.due_date, batch.due_provisional) == (due, False)
    assert imports.batch_payable(batch) == imports.BatchPayable(D("4800.00"), due, False)


TAIKANG_COLUMNS = ["setl_id", "psn_no", "certno", "enddate", "fixmedins_code", "fixmedins_name", "hosp_lv", "claim_kind",
                   "place", "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
                   "hifp_pay", "hifob_pay", "over_cap_amt"]


def taikang_row(setl_id, person, over_cap="10000.00", hifob="8500.00"):
    return {"setl_id": setl_id, "psn_no": person.psn_no, "certno": person.certno, "enddate": "2025-09-10",
            "fixmedins_code": "H41162700001", "fixmedins_name": "太康县人民医院", "hosp_lv": "2", "claim_kind": "inpatient",
            "place": "local", "medfee_sumamt": "120000.00", "fulamt_ownpay_amt": "10000.00", "overlmt_selfpay": "0",
            "preselfpay_amt": "0", "inscp_scp_amt": "110000.00", "hifp_pay": "80000.00", "hifob_pay": hifob,
            "over_cap_amt": over_cap}


@pytest.mark.parametrize(("reported_on", "due"), [
    # 9-30 + 15 working days: 10-01…10-08 are off, Saturday 10-11 is a make-up working day
    (dt.date(2025, 9, 30), dt.date(2025, 10, 28)),
    # 9-26 (Fri): Sunday 9-28 is a make-up working day and counts first
    (dt.date(2025, 9, 26), dt.date(2025, 10, 23)),
])
def test_taikang_pays_within_15_working_days_of_the_report_across_national_day(finance, reported_on, due):
    taikang = Contract.objects.get(code="taikang-2025")
    person = EnrollmentFactory(person=PersonFactory(area_code="411627"), contract=taikang,
                               area=Area.objects.get(code="411627")).person
    batch = run("taikang-2025", [taikang_row("T1", person)], finance, dt.date(2025, 9, 1), reported_on,
                columns=TAIKANG_COLUMNS)
    assert (batch.platform_total, batch.engine_total, batch.differing_count) == (D("8500.00"), D("8500.00"), 0)
    assert (batch.due_date, batch.due_provisional) == (due, False)
    assert imports.report_deadline(batch) == dt.date(2025, 10, 10)


def test_a_contract_without_terms_pays_by_agreement(finance):
    HospitalSettlementTerms.objects.filter(contract__code="tongliao-2025").delete()
    person = EnrollmentFactory(person=PersonFactory()).person
    batch = run("tongliao-2025", [tongliao_row("S1", person)], finance, dt.date(2025, 3, 1))
    assert imports.batch_payable(batch) == imports.BatchPayable(D("4800.00"), None, False)


def test_batch_payable_refuses_a_batch_not_imported(finance):
    person = EnrollmentFactory(person=PersonFactory()).person
    batch = imports.batch_upload(contract=Contract.objects.get(code="tongliao-2025"), month=dt.date(2025, 3, 1),
                                 user=finance, uploaded_file=upload(csv_bytes([tongliao_row("S1", person)])))
    with pytest.raises(ValueError, match="not imported"):
        imports.batch_payable(batch)


@pytest.fixture
def march(finance):
    persons = [EnrollmentFactory(person=PersonFactory()).person for _ in range(2)]
    rows = [tongliao_row("S1", persons[0]), tongliao_row("S2", persons[1], inscp="70000.00", hifmi="16600.00")]
    return run("tongliao-2025", rows, finance, dt.date(2025, 3, 1))


def test_only_a_deduction_confirmed_by_all_three_parties_reduces_the_payable(march, reviewer_user):
    assert march.payable_total == D("21400.00")
    s2 = Settlement.objects.get(setl_id="S2")
    deduction = imports.deduction_record(settlement=s2, amount=D("1234.56"), reason="超限价耗材", user=reviewer_user)
    day = dt.date(2025, 4, 20)
    for party in ("hospital", "authority"):
        imports.deduction_confirm(deduction=deduction, party=party, on=day, user=reviewer_user)
        march.refresh_from_db()
        assert (march.deductions_total, march.payable_total) == (D("0.00"), D("21400.00"))
    imports.deduction_confirm(deduction=deduction, party="insurer", on=day, user=reviewer_user)
    march.refresh_from_db()
    assert (march.deductions_total, march.payable_total) == (D("1234.56"), D("20165.44"))
    assert imports.batch_payable(march).amount == D("20165.44")
    history = Deduction.history.filter(id=deduction.pk).order_by("history_id")
    assert [(h.history_user.username, h.history_change_reason) for h in history] == [
        ("rev", "超限价耗材"), ("rev", "confirmed by hospital"), ("rev", "confirmed by authority"),
        ("rev", "confirmed by insurer")]
    with pytest.raises(ValidationError):
        imports.deduction_confirm(deduction=deduction, party="insurer", on=day, user=reviewer_user)


def test_deductions_never_exceed_what_was_paid_on_the_settlement(march, reviewer_user):
    s1 = Settlement.objects.get(setl_id="S1")  # platform paid 4,800.00
    imports.deduction_record(settlement=s1, amount=D("4000.00"), reason="a", user=reviewer_user)
    with pytest.raises(ValidationError) as exc:
        imports.deduction_record(settlement=s1, amount=D("800.01"), reason="b", user=reviewer_user)
    assert exc.value.message_dict["amount"] == ["扣款合计 4800.01 将超过该结算记录已支付的 4800.00。"]
    imports.deduction_record(settlement=s1, amount=D("800.00"), reason="b", user=reviewer_user)
    for bad in (D("0"), D("-5"), D("1.001")):
        with pytest.raises(ValidationError):
            imports.deduction_record(settlement=Settlement.objects.get(setl_id="S2"), amount=bad, reason="c", user=reviewer_user)


def test_a_recovery_is_offset_against_the_hospitals_next_batch(march, finance, reviewer_user):
    s1 = Settlement.objects.get(setl_id="S1")
    recovery = imports.recovery_record(settlement=s1, amount=D("480.00"), reason="重复收费", found_on=dt.date(2025, 5, 6),
                                       user=reviewer_user)
    march.refresh_from_db()
    assert march.payable_total == D("21400.00")  # already paid: not reduced after the fact
    person = EnrollmentFactory(person=PersonFactory()).person
    april = run("tongliao-2025", [tongliao_row("S3", person, enddate="2025-04-03")], finance, dt.date(2025, 4, 1))
    assert (april.platform_total, april.recoveries_total, april.payable_total) == (D("4800.00"), D("480.00"), D("4320.00"))
    recovery.refresh_from_db()
    assert recovery.offset_batch == april
    may = run("tongliao-2025", [tongliao_row("S4", person, enddate="2025-05-03", inscp="30000.00", hifmi="0")], finance,
              dt.date(2025, 5, 1))
    assert (may.recoveries_total, may.payable_total) == (D("0.00"), D("0.00"))  # offset once only
    assert Recovery.history.get(id=recovery.pk).history_user.username == "rev"


def test_a_recovery_never_exceeds_what_is_left_after_confirmed_deductions(march, reviewer_user):
    s1 = Settlement.objects.get(setl_id="S1")
    d = imports.deduction_record(settlement=s1, amount=D("800.00"), reason="a", user=reviewer_user)
    for party in imports.PARTIES:
        imports.deduction_confirm(deduction=d, party=party, on=dt.date(2025, 4, 20), user=reviewer_user)
    imports.recovery_record(settlement=s1, amount=D("3000.00"), reason="b", found_on=dt.date(2025, 5, 6), user=reviewer_user)
    with pytest.raises(ValidationError) as exc:
        imports.recovery_record(settlement=s1, amount=D("1000.01"), reason="c", found_on=dt.date(2025, 5, 6), user=reviewer_user)
    assert exc.value.message_dict["amount"] == ["该结算记录最多还可追回 1000.00。"]


def test_finance_takes_over_the_batch_payable_once_and_deductions_close(march, finance, reviewer_user, client):
    from finance.models import HospitalPayable

    deduction = imports.deduction_record(settlement=Settlement.objects.get(setl_id="S2"), amount=D("1234.56"),
                                         reason="超限价耗材", user=reviewer_user)
    for party in ("hospital", "authority", "insurer"):
        imports.deduction_confirm(deduction=deduction, party=party, on=dt.date(2025, 4, 20), user=reviewer_user)
    march.refresh_from_db()
    with pytest.raises(Exception) as exc:  # reviewers do not hand payables to finance
        imports.batch_payable_post(batch=march, user=reviewer_user)
    assert type(exc.value).__name__ == "PermissionDenied"
    client.force_login(finance)
    client.post(f"/claims/hospital-batches/{march.pk}/post/")
    client.post(f"/claims/hospital-batches/{march.pk}/post/")  # twice: still one payable
    payable = HospitalPayable.objects.get()
    assert (payable.amount, payable.due_date, payable.period, payable.area.code, payable.reference) == (
        D("20165.44"), dt.date(2025, 4, 30), dt.date(2025, 3, 1), "150502", f"hospital-batch-{march.pk}")
    assert 'id="posted"' in client.get(f"/claims/hospital-batches/{march.pk}/").text
    with pytest.raises(ValidationError) as exc:
        imports.deduction_record(settlement=Settlement.objects.get(setl_id="S1"), amount=D("1.00"), reason="x",
                                 user=reviewer_user)
    assert exc.value.code == "posted"

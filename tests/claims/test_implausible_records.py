"""Implausible records are refused with a Chinese message naming the field (issue 19, item 2):
a discharge in the future, the basic fund paying more than the policy-scope amount, documents
received before the discharge. (A payment without payee account, date and voucher number:
tests/finance/test_claim_payments.py.)"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from claims import imports
from claims.models import Claim, HospitalBatch, Settlement
from claims.registration import RegistrationRefused, claim_documents_receive
from tests.claims.hospital_files import csv_bytes, media_root, tongliao_row, upload  # noqa: F401 (autouse)
from tests.claims.test_claim_registration import _record, _register
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _refused(*args, **kwargs) -> tuple[str, list[str]]:
    before = (Claim.objects.count(), Settlement.objects.count())
    with translation.override("zh-hans"), pytest.raises(RegistrationRefused) as exc:
        _register(*args, **kwargs)
    assert (Claim.objects.count(), Settlement.objects.count()) == before
    return exc.value.code, exc.value.messages


def test_a_discharge_in_the_future_is_refused(caseworker, horqin_person):
    assert _refused(caseworker, horqin_person, enddate=dt.date(2025, 3, 2), received_on=dt.date(2025, 3, 1),
                    begndate=dt.date(2025, 2, 20), today=dt.date(2025, 3, 1)) == (
        "future_discharge", ["出院日期 2025-03-02 晚于今天（2025-03-01）。"])


def test_basic_fund_paid_above_the_policy_scope_amount_is_refused(caseworker, horqin_person):
    assert _refused(caseworker, horqin_person, records=[_record(inscp="30000.00", hifp="30000.01")]) == (
        "hifp_above_scope", ["第 1 条记录：统筹基金支出（hifp_pay）30000.01 超过符合政策范围金额（inscp_scp_amt）30000.00。"])


def test_documents_received_before_the_discharge_are_refused(caseworker, horqin_person):
    assert _refused(caseworker, horqin_person, received_on=dt.date(2025, 3, 1)) == (
        "received_before_discharge", ["材料不可能在出院（2025-03-02）之前收到（2025-03-01）。"])


def test_documents_brought_later_cannot_predate_the_discharge(caseworker, horqin_person):
    claim = _register(caseworker, horqin_person, documents=[])
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        claim_documents_receive(claim=claim, documents=[], received_on=dt.date(2025, 2, 28), user=caseworker)
    assert exc.value.messages == ["材料不可能在出院（2025-03-02）之前收到（2025-02-28）。"]


def test_the_limits_themselves_are_accepted(caseworker, horqin_person):
    claim = _register(caseworker, horqin_person, records=[_record(inscp="30000.00", hifp="30000.00")],
                      received_on=dt.date(2025, 3, 2), today=dt.date(2025, 3, 2))
    assert claim.status == Claim.Status.DOCUMENTS_COMPLETE
    assert claim.settlements.get().hifp_pay == Decimal("30000.00")


def test_hospital_rows_in_the_future_or_paying_above_scope_are_refused(horqin_person, monkeypatch):
    from programs.models import Contract

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2025, 3, 31))
    finance = UserFactory(username="fin", role="finance", area_codes=["150500"])
    rows = [tongliao_row("S1", horqin_person, enddate="2025-03-02"),
            tongliao_row("S2", horqin_person, enddate="2025-04-02"),
            tongliao_row("S3", horqin_person, inscp="30000.00", hifp="30000.01", hifmi="0")]
    contract = Contract.objects.get(code="tongliao-2025")
    batch = imports.batch_upload(contract=contract, month=dt.date(2025, 3, 1), uploaded_file=upload(csv_bytes(rows), "m.csv"),
                                 user=finance)
    batch = imports.batch_validate(batch.pk)
    assert batch.status == HospitalBatch.Status.REFUSED
    with translation.override("zh-hans"):
        errors = [(e["row"], e["column"], e["message"]) for e in imports.rendered_errors(batch.errors)]
    assert errors == [
        (3, "enddate（出院日期）", "出院日期 2025-04-02 晚于今天（2025-03-31）。"),
        (4, "hifp_pay（统筹基金支出）", "统筹基金支出 30000.01 超过符合政策范围金额 30000.00。"),
    ]
    assert not Settlement.objects.exists()

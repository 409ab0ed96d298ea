"""Hospital monthly instant-settlement files: encodings, formats, idempotent re-import, the
engine's recomputation and the totals of a batch."""

import datetime as dt
from decimal import Decimal

import pytest

from claims import imports
from claims.models import HospitalBatch, HospitalBatchLog, Settlement, SettlementCheck
from programs.models import Contract
from tests.claims.hospital_files import (
    HOSPITAL,
    csv_bytes,
    media_root,  # noqa: F401 (autouse)
    tongliao_row,
    upload,
    xlsx_bytes,
)
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(db):
    return UserFactory(username="fin", role="finance", area_codes=["150500"])


@pytest.fixture
def tongliao():
    return Contract.objects.get(code="tongliao-2025")


@pytest.fixture
def persons(db):
    return [EnrollmentFactory(person=PersonFactory(name=n)).person for n in ("包宝山", "王芳")]


def run(contract, data: bytes, user, name="2025-03.csv", month=dt.date(2025, 3, 1)) -> HospitalBatch:
    """Upload, validate, confirm and import — the page's path, without the page."""
    batch = imports.batch_upload(contract=contract, month=month, uploaded_file=upload(data, name), user=user,
                                 reported_on=dt.date(2025, 4, 5))
    batch = imports.batch_validate(batch.pk)
    if batch.status != HospitalBatch.Status.VALIDATED:
        return batch
    imports.batch_confirm(batch=batch, user=user)
    return imports.batch_apply(batch.pk)


def two_rows(persons):
    return [tongliao_row("S1", persons[0]), tongliao_row("S2", persons[1], inscp="70000.00", hifmi="15000.00")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_gbk_imports_the_same_rows(tongliao, persons, finance, encoding):
    batch = run(tongliao, csv_bytes(two_rows(persons), encoding=encoding), finance)
    assert batch.status == HospitalBatch.Status.DONE, imports.rendered_errors(batch.errors)
    assert batch.encoding == ("gb18030" if encoding == "gbk" else "utf-8-sig")
    assert (batch.fixmedins_code, batch.fixmedins_name) == HOSPITAL  # the Chinese name survived decoding
    s1 = Settlement.objects.get(setl_id="S1")
    assert (s1.person, s1.area.code, s1.source, s1.medfee_sumamt) == (persons[0], "150502", "instant", Decimal("60000.00"))
    assert s1.setl_time.isoformat() == "2025-03-02T02:00:00+00:00"  # local time Asia/Shanghai


def test_xlsx_imports_with_amounts_as_numbers(tongliao, persons, finance):
    batch = run(tongliao, xlsx_bytes(two_rows(persons)), finance, name="2025-03.xlsx")
    assert batch.status == HospitalBatch.Status.DONE, imports.rendered_errors(batch.errors)
    assert batch.file_format == "xlsx"
    assert Settlement.objects.get(setl_id="S2").inscp_scp_amt == Decimal("70000.00")


def test_batch_recomputes_with_the_engine_and_flags_differences_from_the_platform(tongliao, persons, finance):
    # S1: base 22,000 → 4,800.00 (platform agrees); S2: base 40,000 → 16,000 × 60 % + 10,000 × 70 % = 16,600 (platform 15,000)
    batch = run(tongliao, csv_bytes(two_rows(persons)), finance)
    checks = {c.settlement.setl_id: c for c in SettlementCheck.objects.select_related("settlement")}
    assert (checks["S1"].engine_payable, checks["S1"].difference) == (Decimal("4800.00"), Decimal("0.00"))
    assert (checks["S2"].engine_payable, checks["S2"].difference) == (Decimal("16600.00"), Decimal("1600.00"))
    assert (batch.row_count, batch.created_count, batch.unchanged_count, batch.differing_count) == (2, 2, 0, 1)
    assert (batch.platform_total, batch.engine_total, batch.payable_total) == (
        Decimal("19800.00"), Decimal("21400.00"), Decimal("19800.00"))


def test_a_batch_recomputes_the_persons_earlier_settlements_in_order(tongliao, persons, finance):
    """A person's March record counts toward the cumulative base of their April record."""
    run(tongliao, csv_bytes([tongliao_row("S1", persons[0])]), finance)
    april = tongliao_row("S3", persons[0], inscp="70000.00", hifmi="28400.00", enddate="2025-04-02")
    batch = run(tongliao, csv_bytes([april]), finance, name="2025-04.csv", month=dt.date(2025, 4, 1))
    assert SettlementCheck.objects.get(settlement__setl_id="S3").engine_payable == Decimal("28400.00")
    assert (batch.engine_total, batch.differing_count) == (Decimal("28400.00"), 0)


def test_the_same_file_twice_gives_the_same_rows(tongliao, persons, finance):
    data = csv_bytes(two_rows(persons))
    first = run(tongliao, data, finance)
    second = run(tongliao, data, finance)
    assert Settlement.objects.count() == 2 and SettlementCheck.objects.count() == 2
    assert (second.status, second.created_count, second.unchanged_count) == (HospitalBatch.Status.DONE, 0, 2)
    assert second.file_sha256 == first.file_sha256
    assert (second.platform_total, second.payable_total) == (Decimal("0.00"), Decimal("0.00"))  # never paid twice
    assert set(first.settlement_links.values_list("settlement__setl_id", flat=True)) == {"S1", "S2"}


def test_a_new_row_in_a_reimported_file_is_added_and_the_old_ones_are_unchanged(tongliao, persons, finance):
    run(tongliao, csv_bytes(two_rows(persons)), finance)
    batch = run(tongliao, csv_bytes([*two_rows(persons), tongliao_row("S4", persons[1], enddate="2025-03-20")]), finance)
    assert (batch.created_count, batch.unchanged_count) == (1, 2)
    assert list(batch.settlement_links.values_list("settlement__setl_id", flat=True)) == ["S4"]


def test_a_changed_row_for_a_known_setl_id_refuses_the_file(tongliao, persons, finance):
    run(tongliao, csv_bytes(two_rows(persons)), finance)
    changed = [tongliao_row("S1", persons[0], hifmi="4900.00"), tongliao_row("S9", persons[1])]
    batch = run(tongliao, csv_bytes(changed), finance)
    assert batch.status == HospitalBatch.Status.REFUSED
    assert imports.rendered_errors(batch.errors) == [{
        "row": 2, "column": "setl_id（结算ID）",
        "message": "结算ID S1 已以不同内容导入；请通过扣款或追回更正，不要重新导入。",
    }]
    assert not Settlement.objects.filter(setl_id="S9").exists()
    assert Settlement.objects.get(setl_id="S1").hifmi_pay == Decimal("4800.00")


def test_each_step_of_a_batch_is_audited_with_who_and_the_file_hash(tongliao, persons, finance):
    batch = run(tongliao, csv_bytes(two_rows(persons)), finance)
    log = list(HospitalBatchLog.objects.filter(batch=batch).values_list("action", "by__username", "file_sha256"))
    assert log == [("uploaded", "fin", batch.file_sha256), ("validated", None, batch.file_sha256),
                   ("confirmed", "fin", batch.file_sha256), ("imported", "fin", batch.file_sha256)]
    imported = HospitalBatchLog.objects.get(batch=batch, action="imported").summary
    assert imported == {"rows": 2, "new": 2, "unchanged": 0, "differing": 1, "platform_total": "19800.00",
                        "engine_total": "21400.00", "deductions_total": "0.00", "recoveries_total": "0.00",
                        "payable_total": "19800.00", "due_date": "2025-04-30"}


def test_a_redelivered_task_does_not_import_twice(tongliao, persons, finance):
    from claims.tasks import apply_hospital_batch, validate_hospital_batch

    batch = imports.batch_upload(contract=tongliao, month=dt.date(2025, 3, 1), user=finance,
                                 uploaded_file=upload(csv_bytes(two_rows(persons))))
    assert validate_hospital_batch(batch.pk) == "validated"
    assert validate_hospital_batch(batch.pk) == "validated"  # redelivered: nothing to claim
    imports.batch_confirm(batch=batch, user=finance)
    assert apply_hospital_batch(batch.pk) == "done"
    assert apply_hospital_batch(batch.pk) == "done"
    assert Settlement.objects.count() == 2
    assert HospitalBatchLog.objects.filter(batch=batch, action="imported").count() == 1


def test_a_batch_left_applying_by_a_dead_worker_is_imported_by_the_redelivered_task(tongliao, persons, finance):
    from claims.tasks import apply_hospital_batch

    batch = imports.batch_upload(contract=tongliao, month=dt.date(2025, 3, 1), user=finance,
                                 uploaded_file=upload(csv_bytes(two_rows(persons))))
    imports.batch_validate(batch.pk)
    imports.batch_confirm(batch=batch, user=finance)
    # the first worker claimed it and died: its import transaction rolled back, APPLYING stayed
    HospitalBatch.objects.filter(pk=batch.pk).update(status=HospitalBatch.Status.APPLYING)
    assert apply_hospital_batch(batch.pk) == "done"
    assert Settlement.objects.count() == 2

"""Bad hospital files: any error refuses the whole file with a row/column list in Chinese, and
the data is exactly as before: every table the import writes is counted before and after. Only
the refused batch itself (status, error list) and its log rows remain, as the audit record."""

import datetime as dt

import pytest

from claims import imports
from claims.models import (
    Deduction,
    HospitalBatch,
    HospitalBatchSettlement,
    Recovery,
    Settlement,
    SettlementCheck,
)
from programs.models import Area, Contract, Enrollment, InsuredPerson
from tests.claims.hospital_files import (
    TONGLIAO_COLUMNS,
    csv_bytes,
    media_root,  # noqa: F401 (autouse)
    tongliao_row,
    upload,
)
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(db):
    return UserFactory(username="fin", role="finance", area_codes=["150500"])


@pytest.fixture
def person(db):
    return EnrollmentFactory(person=PersonFactory(name="包宝山")).person


def counts():
    return {m.__name__: m.objects.count() for m in (Settlement, SettlementCheck, HospitalBatchSettlement, Recovery,
                                                    Deduction, InsuredPerson, Enrollment)}


def refused(data: bytes, user, name="2025-03.csv") -> list[dict]:
    contract = Contract.objects.get(code="tongliao-2025")
    before = counts()
    batch = imports.batch_upload(contract=contract, month=dt.date(2025, 3, 1), uploaded_file=upload(data, name), user=user)
    batch = imports.batch_validate(batch.pk)
    assert batch.status == HospitalBatch.Status.REFUSED
    assert counts() == before
    return [(e["row"], e["column"], e["message"]) for e in imports.rendered_errors(batch.errors)]


def test_a_file_in_neither_utf8_nor_gbk_is_refused(finance, person):
    data = csv_bytes([tongliao_row("S1", person)]).replace("通辽市医院".encode(), b"\xff\xfe\xff")
    assert refused(data, finance) == [("", "", "文件既不是 UTF-8 也不是 GBK/GB18030 文本；请另存为 UTF-8 CSV 或 XLSX。")]


def test_an_unsupported_file_type_is_refused(finance, person):
    assert refused(b"%PDF-1.4", finance, name="2025-03.pdf") == [("", "", "不支持的文件类型：请上传 .csv 或 .xlsx 文件。")]


def test_missing_columns_are_each_named(finance, person):
    columns = [c for c in TONGLIAO_COLUMNS if c not in ("place", "hifmi_pay")]
    assert refused(csv_bytes([tongliao_row("S1", person)], columns=columns), finance) == [
        (1, "hifmi_pay（大病保险支出）", "缺少列 hifmi_pay。"),
        (1, "place（就医地）", "缺少列 place。"),
    ]


def test_text_and_negative_amounts_name_row_and_column(finance, person):
    rows = [tongliao_row("S1", person, hifp="三万"), tongliao_row("S2", person, hifmi="-1.00"),
            tongliao_row("S3", person, hifmi="1.005")]
    assert refused(csv_bytes(rows), finance) == [
        (2, "hifp_pay（统筹基金支出）", "“三万”不是金额。"),
        (3, "hifmi_pay（大病保险支出）", "金额 -1.00 为负数。"),
        (4, "hifmi_pay（大病保险支出）", "金额 1.005 超过两位小数。"),
    ]


def test_a_broken_medical_cost_identity_is_refused_beyond_one_fen(finance, person):
    ok = tongliao_row("S1", person, medfee_sumamt="60000.01")  # within 0.01: accepted
    bad = tongliao_row("S2", person, medfee_sumamt="60000.02")
    assert refused(csv_bytes([ok, bad]), finance) == [
        (3, "medfee_sumamt（医疗费总额）", "医疗费总额 60000.02 与四项之和 60000.00 相差 0.02（超过 0.01）。"),
    ]


def test_dates_outside_the_contract_year_are_refused(finance, person):
    rows = [tongliao_row("S1", person, enddate="2024-12-31", begndate="2024-12-20"), tongliao_row("S2", person, enddate="2025-13-01", setl_time="")]
    assert refused(csv_bytes(rows), finance) == [
        (2, "enddate（出院日期）", "日期 2024-12-31 不在合同期间 2025-01-01 – 2025-12-31 内。"),
        (3, "enddate（出院日期）", "“2025-13-01”不是日期（YYYY-MM-DD）。"),
    ]


def test_unknown_and_unenrolled_persons_are_refused(finance, person):
    stranger = PersonFactory(name="陈静")  # exists, but has no Tongliao enrollment
    cancelled = EnrollmentFactory(person=PersonFactory(name="刘洋"), status=Enrollment.Status.CANCELLED).person
    ghost = tongliao_row("S1", person, psn_no="9999", certno="")
    rows = [ghost, tongliao_row("S2", stranger), tongliao_row("S3", cancelled)]
    contract = Contract.objects.get(code="tongliao-2025").name
    assert refused(csv_bytes(rows), finance) == [
        (2, "psn_no（人员编号）", "没有 9999 对应的参保人。"),
        (3, "psn_no（人员编号）", f"该参保人未参加{contract}。"),
        (4, "psn_no（人员编号）", f"该参保人未参加{contract}。"),
    ]


def test_duplicate_setl_ids_codes_and_another_hospital_are_refused(finance, person):
    rows = [tongliao_row("S1", person), tongliao_row("S1", person), tongliao_row("S2", person, place="local"),
            tongliao_row("S3", person, fixmedins_code="H999")]
    errors = refused(csv_bytes(rows), finance)
    assert [(r, c) for r, c, _m in errors] == [(3, "setl_id（结算ID）"), (4, "place（就医地）"), (5, "fixmedins_code（定点医药机构编号）")]


def test_a_person_outside_the_uploaders_areas_is_refused(person):
    kailu = UserFactory(username="fin_kailu", role="finance", area_codes=["150523"])
    [(row, column, message)] = refused(csv_bytes([tongliao_row("S1", person)]), kailu)
    assert (row, message) == (2, f"参保人所属区域 {Area.objects.get(code='150502').name} 不在您的管辖范围内。")


def test_one_bad_row_among_many_saves_nothing(finance, person):
    rows = [tongliao_row(f"S{i}", person, enddate="2025-03-02") for i in range(50)]
    rows[37]["inscp_scp_amt"] = "abc"
    errors = refused(csv_bytes(rows), finance)
    assert [(r, c) for r, c, _m in errors][:1] == [(39, "inscp_scp_amt（符合政策范围金额）")]


def test_a_file_that_turns_bad_between_validation_and_import_is_refused_at_import(finance, person):
    """The import re-checks every row in its transaction: an enrollment cancelled after the
    preview refuses the file and nothing is written."""
    contract = Contract.objects.get(code="tongliao-2025")
    batch = imports.batch_upload(contract=contract, month=dt.date(2025, 3, 1), user=finance,
                                 uploaded_file=upload(csv_bytes([tongliao_row("S1", person)])))
    imports.batch_validate(batch.pk)
    imports.batch_confirm(batch=batch, user=finance)
    Enrollment.objects.filter(person=person).update(status=Enrollment.Status.CANCELLED)
    before = counts()
    batch = imports.batch_apply(batch.pk)
    assert batch.status == HospitalBatch.Status.REFUSED and counts() == before


def test_xlsx_with_text_in_an_amount_cell_or_a_broken_workbook_is_refused(finance, person):
    from tests.claims.hospital_files import xlsx_bytes

    rows = [tongliao_row("S1", person), tongliao_row("S2", person, enddate="2025-03-05")]
    data = xlsx_bytes(rows)
    from io import BytesIO

    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(data))
    wb.active.cell(row=3, column=TONGLIAO_COLUMNS.index("hifp_pay") + 1, value="三万元")
    buf = BytesIO()
    wb.save(buf)
    assert refused(buf.getvalue(), finance, name="2025-03.xlsx") == [(3, "hifp_pay（统筹基金支出）", "“三万元”不是金额。")]
    assert refused(b"PK\x03\x04 not really a workbook", finance, name="2025-03.xlsx") == [
        ("", "", "文件无法读取：BadZipFile")]

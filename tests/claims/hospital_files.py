"""Building hospital monthly settlement files for the import tests and the bench script."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files and progress files of each test in its own directory."""
    settings.MEDIA_ROOT = str(tmp_path / "media")

@pytest.fixture
def seeded_terms(seeded):
    """Transactional tests flush the migration-seeded payment terms with everything else."""
    from claims.imports import seed_settlement_terms

    seed_settlement_terms()


TONGLIAO_COLUMNS = [
    "setl_id", "mdtrt_id", "psn_no", "certno", "psn_name", "insutype", "med_type", "begndate", "enddate",
    "setl_time", "fixmedins_code", "fixmedins_name", "hosp_lv", "claim_kind", "place", "medfee_sumamt",
    "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay",
    "hifmi_pay", "hifob_pay", "maf_pay", "psn_part_amt", "acct_pay", "psn_cash_pay",
]
HOSPITAL = ("H15050200001", "通辽市医院")


def tongliao_row(setl_id: str, person, *, inscp="52000.00", hifp="30000.00", hifmi="4800.00",
                 enddate="2025-03-02", **overrides) -> dict:
    """A Tongliao inpatient record: medfee = 5,000 own + 1,000 over limit + 2,000 class-B + inscp."""
    from decimal import Decimal

    medfee = Decimal("8000.00") + Decimal(inscp)
    row = {
        "setl_id": setl_id, "mdtrt_id": f"M{setl_id}", "psn_no": person.psn_no, "certno": person.certno,
        "psn_name": person.name, "insutype": "390", "med_type": "21", "begndate": "2025-02-20", "enddate": enddate,
        "setl_time": f"{enddate} 10:00:00", "fixmedins_code": HOSPITAL[0], "fixmedins_name": HOSPITAL[1],
        "hosp_lv": "3", "claim_kind": "inpatient", "place": "in_region", "medfee_sumamt": str(medfee),
        "fulamt_ownpay_amt": "5000.00", "overlmt_selfpay": "1000.00", "preselfpay_amt": "2000.00",
        "inscp_scp_amt": inscp, "act_pay_dedc": "800.00", "hifp_pay": hifp, "hifmi_pay": hifmi, "hifob_pay": "0",
        "maf_pay": "0", "psn_part_amt": "0", "acct_pay": "0", "psn_cash_pay": "0",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict], *, encoding="utf-8", columns=None) -> bytes:
    columns = columns or TONGLIAO_COLUMNS
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict], columns=None) -> bytes:
    from decimal import Decimal

    from openpyxl import Workbook

    columns = columns or TONGLIAO_COLUMNS
    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for row in rows:
        values = []
        for c in columns:
            v = row.get(c, "")
            # amounts as numbers, as hospitals' spreadsheets hold them
            if c.endswith(("_amt", "_pay", "_selfpay", "_dedc")) and v not in ("", None):
                v = float(Decimal(v))
            values.append(v)
        ws.append(values)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(data: bytes, name="2025-03.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)

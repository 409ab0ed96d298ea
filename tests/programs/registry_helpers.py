"""Building enrollment-list files for the registry tests."""

import csv
import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from programs import services
from programs.models import Contract
from tests.factories import certno_for

HEADER = ["psn_no", "certno", "psn_name", "gend", "brdy", "admdvs", "psn_type", "emp_type",
          "psn_insu_stas", "begndate", "enddate"]


def person_row(seq: int, *, area="150502", birth=dt.date(1980, 3, 1), name="张三", psn_type="普通",
               emp_type="在职", status="1", begndate="", enddate="", psn_no=None, **overrides) -> dict:
    certno = certno_for(area, birth, seq)
    row = {
        "psn_no": psn_no if psn_no is not None else f"P{area}{seq:06d}",
        "certno": certno,
        "psn_name": name,
        "gend": "1" if int(certno[16]) % 2 else "2",
        "brdy": birth.isoformat(),
        "admdvs": area,
        "psn_type": psn_type,
        "emp_type": emp_type,
        "psn_insu_stas": status,
        "begndate": begndate,
        "enddate": enddate,
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict], *, encoding="gbk", bom=False, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    data = out.getvalue().encode("utf-8" if encoding == "utf-8" else encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[dict], header=HEADER) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append([row.get(h, "") for h in header])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def tongliao() -> Contract:
    return Contract.objects.get(code="tongliao-2025")


def upload(user, data: bytes, *, name="list.csv", contract=None, effective_date=dt.date(2025, 1, 1),
           mode="full", source="group"):
    contract = contract or tongliao()
    return services.import_batch_create(
        user=user, contract=contract, uploaded_file=SimpleUploadedFile(name, data),
        effective_date=effective_date, mode=mode, source=source,
    )


def run_import(user, data: bytes, **kwargs):
    """Upload, validate, confirm and apply; returns the batch."""
    batch = upload(user, data, **kwargs)
    batch = services.import_batch_validate(batch_id=batch.pk)
    if batch.status != "validated":
        return batch
    services.import_batch_confirm(batch=batch, user=user)
    services.import_batch_apply(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch

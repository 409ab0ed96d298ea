"""The rejected rows of an enrollment list as the reader may see them. The stored file holds
the rows as uploaded; a reader without `view_full_identity` (supervisors, administrators) gets
ID numbers, names and birth dates masked — in their columns and wherever the reason text
repeats them — and a reader with it leaves an `IdentityAccess` row. Every cell goes out
through `core.exports` (formula-looking text neutralised), old stored files included."""

from __future__ import annotations

import csv
import io

from insurance_admin.core import exports

from ..identity_access import identity_access_record
from ..masking import can_see_full_identity, mask_birth_date, mask_certno, mask_name
from ..models import ImportBatch

MASKS = {"certno": mask_certno, "psn_name": mask_name, "brdy": mask_birth_date}


def _birth_forms(certno: str) -> list[str]:
    digits = certno[6:14] if len(certno) == 18 else ""
    if not digits.isdigit():
        return []
    return [digits, f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"]


def _masked_row(header: list[str], row: list[str]) -> list[str]:
    cells = dict(zip(header, row, strict=False))
    secrets: dict[str, str] = {}
    for column, mask in MASKS.items():
        value = cells.get(column, "")
        if value:
            secrets[value] = mask(value)
    for form in _birth_forms(cells.get("certno", "")):
        secrets.setdefault(form, mask_birth_date(form))
    out = []
    for name, value in zip(header, row, strict=False):
        if name in MASKS:
            value = MASKS[name](value)
        elif value:
            for secret in sorted(secrets, key=len, reverse=True):  # the ID before its birth date
                value = value.replace(secret, secrets[secret])
        out.append(value)
    return out


def rejected_rows_for(user, batch: ImportBatch, *, where: str) -> bytes:
    """The batch's rejected-rows CSV for `user` (UTF-8 with a BOM, as stored)."""
    with batch.rejected_file.open("rb") as fh:
        text = fh.read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    full = can_see_full_identity(user)
    out = io.StringIO()
    writer = exports.writer(out)
    if rows:
        header = rows[0]
        writer.writerow(header)
        for row in rows[1:]:
            writer.writerow(row if full else _masked_row(header, row))
    if full:
        identity_access_record(user=user, import_batch=batch, where=where, rows=max(len(rows) - 1, 0))
    return ("\ufeff" + out.getvalue()).encode("utf-8")

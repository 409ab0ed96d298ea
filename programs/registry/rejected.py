"""The rejected rows of an enrollment list as the reader may see them. The stored file holds
the rows as uploaded; a reader without `view_full_identity` (supervisors, administrators) gets
ID numbers, names and birth dates masked — in their columns and wherever the reason text
repeats them — and a reader with it leaves an `IdentityAccess` row. Every cell goes out
through `core.exports` (formula-looking text neutralised), old stored files included. The
file is streamed: a list rejected whole (millions of rows) is never held in memory."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from insurance_admin.core import exports
from insurance_admin.core.masking import (
    can_see_full_identity,
    mask_birth_date,
    mask_certno,
    mask_name,
)

from ..identity_access import identity_access_record
from ..models import ImportBatch

MASKS = {"certno": mask_certno, "psn_name": mask_name, "brdy": mask_birth_date}
_CHUNK = 1 << 16


def _birth_forms(certno: str) -> list[str]:
    digits = certno[6:14] if len(certno) == 18 else ""
    if not digits.isdigit():
        return []
    return [digits, f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"]


def _masked_row(header: list[str], row: list[str]) -> list[str]:
    """The identity columns masked; the reason (last column) and psn_no (some platforms use
    the ID number as it) with every occurrence of the row's ID number, name and birth date
    masked. The other columns are codes and dates of the enrollment, left as they are."""
    cells = dict(zip(header, row, strict=False))
    secrets = [(value, mask(value)) for column, mask in MASKS.items() if len(value := cells.get(column, "")) > 1]
    secrets += [(form, mask_birth_date(form)) for form in _birth_forms(cells.get("certno", ""))]
    secrets.sort(key=lambda s: len(s[0]), reverse=True)  # the ID number before its birth date
    out = list(row)
    for i, name in enumerate(header[:len(row)]):
        if name in MASKS:
            out[i] = MASKS[name](row[i])
        elif (name == "psn_no" or i == len(header) - 1) and row[i]:
            value = row[i]
            for secret, masked in secrets:
                if secret in value:
                    value = value.replace(secret, masked)
            out[i] = value
    return out


def rejected_rows_for(user, batch: ImportBatch, *, where: str) -> Iterator[bytes]:
    """The batch's rejected-rows CSV for `user` (UTF-8 with a BOM, as stored), in chunks. The
    access is recorded before the first byte goes out."""
    full = can_see_full_identity(user)
    if full:
        identity_access_record(user=user, import_batch=batch, where=where, rows=batch.rows_rejected or 0)
    return _chunks(batch, full)


def _chunks(batch: ImportBatch, full: bool) -> Iterator[bytes]:
    out = io.StringIO()
    writer = exports.writer(out)
    yield "\ufeff".encode()
    with batch.rejected_file.open("rb") as fh:
        header = None
        for row in csv.reader(codecs.getreader("utf-8-sig")(fh)):
            if header is None:
                header = row
                writer.writerow(row)
            else:
                writer.writerow(row if full else _masked_row(header, row))
            if out.tell() > _CHUNK:
                yield out.getvalue().encode("utf-8")
                out.seek(0)
                out.truncate()
    yield out.getvalue().encode("utf-8")

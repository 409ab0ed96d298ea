"""The rejected rows of an enrollment list as the reader may see them. The stored file holds
the rows as uploaded; a reader without `view_full_identity` (supervisors, administrators) gets
ID numbers, names and birth dates masked — in their columns and wherever the reason text
repeats them — and a reader with it leaves an `IdentityAccess` row. Every cell goes out
through the import framework's rejected-rows file (`core.imports.rejected`: formula-looking text
neutralised), old stored files included. The
file is streamed: a list rejected whole (millions of rows) is never held in memory."""

from __future__ import annotations

from collections.abc import Iterator

from insurance_admin.core.imports import rejected as rejected_file
from insurance_admin.core.masking import (
    can_see_full_identity,
    mask_birth_date,
    mask_certno,
    mask_name,
)

from ..identity_access import identity_access_record
from ..models import ImportBatch

MASKS = {"certno": mask_certno, "psn_name": mask_name, "brdy": mask_birth_date}


def _birth_forms(certno: str) -> list[str]:
    digits = certno[6:14] if len(certno) == 18 else ""
    if not digits.isdigit():
        return []
    return [digits, f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"]


def _masked_row(header: list[str], row: list[str]) -> list[str]:
    """The identity columns masked; the reason (last column) and psn_no (some platforms use
    the ID number as it) with every occurrence of the row's ID number, name and birth date
    masked. The other columns are codes and dates of the enrollment, left as they are."""
    last = len(header) - 1
    return rejected_file.masked_row(
        header, row, MASKS, free_text=lambda i, name: name == "psn_no" or i == last,
        more_secrets=lambda cells: [(form, mask_birth_date(form)) for form in _birth_forms(cells.get("certno", ""))],
    )


def rejected_rows_for(user, batch: ImportBatch, *, where: str) -> Iterator[bytes]:
    """The batch's rejected-rows CSV for `user` (UTF-8 with a BOM, as stored), in chunks. The
    access is recorded before the first byte goes out."""
    full = can_see_full_identity(user)
    if full:
        identity_access_record(user=user, import_batch=batch, where=where, rows=batch.rows_rejected or 0)
    return _chunks(batch, full)


def _chunks(batch: ImportBatch, full: bool) -> Iterator[bytes]:
    with batch.rejected_file.open("rb") as fh:
        yield from rejected_file.stream(fh, None if full else _masked_row)

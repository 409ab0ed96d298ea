"""Sniffing an uploaded file before any row is read: size, format, encoding, NUL bytes. A file
refused as a whole raises `ImportRefused` (one type for every import), whose `str()` is the
message for the user and whose `code`/`params` let an import store the refusal and render it
later in the reader's language."""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..encodings import detect_file_encoding

#: Extensions accepted by every import, and the reader each one needs.
FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}

MESSAGES = {
    "format": _("Unsupported file type: upload a .csv or .xlsx file."),
    "encoding": _("The file is neither UTF-8 nor GBK/GB18030 text; save it again as UTF-8 CSV or XLSX."),
    "too_big": _("The file is %(size)s, larger than the limit of %(limit)s: split it into smaller files."),
    "nul": _("The file contains NUL characters (\\x00): it is not a text list. Save it again as UTF-8 CSV or XLSX."),
}


class ImportRefused(Exception):
    """The file as a whole cannot be imported. `str(exc)` is the user's message (rendered in the
    active language); `code`, `column` and `params` are what an import stores to render it again."""

    def __init__(self, code: str, message=None, *, column: str = "", **params) -> None:
        self.code, self.column, self.params = code, column, params
        self.message = message if message is not None else MESSAGES.get(code, code)
        super().__init__(code)

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params and "%(" in text else text


def size_text(n: int) -> str:
    """A byte count as users read it (GB, MB, KB or bytes)."""
    if n >= 1 << 30 and n % (1 << 30) == 0:
        return gettext("%(n)s GB") % {"n": f"{n >> 30:,}"}
    if n >= 1 << 20:
        return gettext("%(n)s MB") % {"n": f"{n / (1 << 20):,.0f}" if n % (1 << 20) == 0 else f"{n / (1 << 20):,.1f}"}
    if n >= 1 << 10:
        return gettext("%(n)s KB") % {"n": f"{n / (1 << 10):,.0f}"}
    return gettext("%(n)s bytes") % {"n": n}


def check_size(size: int, limit: int | None = None) -> None:
    """Refuse a file above `limit` bytes (default: IMPORT_MAX_FILE_BYTES, the batch imports')."""
    limit = settings.IMPORT_MAX_FILE_BYTES if limit is None else limit
    if size > limit:
        raise ImportRefused("too_big", size=size_text(size), limit=size_text(limit))


def file_format(name: str) -> str:
    """'csv' or 'xlsx' by the file's extension; anything else (.xls, .pdf …) is refused."""
    fmt = FORMATS.get(os.path.splitext(name.lower())[1])
    if fmt is None:
        raise ImportRefused("format")
    return fmt


def check_upload(name: str, size: int) -> str:
    """What can be told from the upload alone: the size limit, then the format."""
    check_size(size)
    return file_format(name)


def detect_encoding(path: str, *, verify: bool = True) -> str:
    """The shared rule (insurance_admin.core.encodings). `verify=False` leaves the gb18030 check
    to the reader, which then reports the bad byte with its row."""
    encoding = detect_file_encoding(path, verify_fallback=verify)
    if encoding is None:
        raise ImportRefused("encoding")
    return encoding


def contains_nul(path: str) -> bool:
    """A NUL byte is a NUL character in UTF-8 and GB18030 alike (neither uses 0x00 inside a
    multi-byte character)."""
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            if b"\x00" in block:
                return True
    return False


@dataclass(frozen=True)
class Sniffed:
    format: str  # "csv" or "xlsx"
    encoding: str  # "" for a workbook


def sniff(path: str, name: str, *, refuse_nul: bool = False, verify_encoding: bool = True) -> Sniffed:
    """Size, format and (for text) encoding of a stored upload, refusing what cannot be read at
    all. `refuse_nul`: a text file with a NUL byte is refused whole (an import that stages text
    in PostgreSQL, which stores no NUL); otherwise the import reports it by row and column."""
    check_size(os.path.getsize(path))
    fmt = file_format(name)
    if fmt == "xlsx":
        return Sniffed(fmt, "")
    if refuse_nul and contains_nul(path):
        raise ImportRefused("nul")
    return Sniffed(fmt, detect_encoding(path, verify=verify_encoding))


def count_rows(path: str, fmt: str) -> int:
    """Data rows, for a progress bar (cheap: newline count, or the sheet's dimension)."""
    if fmt == "csv":
        lines, last = 0, b"\n"
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
        return max(lines + (last != b"\n") - 1, 0)
    # heavy: openpyxl loaded only when an .xlsx file is read
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        return max((wb.worksheets[0].max_row or 1) - 1, 0)
    finally:
        wb.close()

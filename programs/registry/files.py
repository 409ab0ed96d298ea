"""Reading an enrollment list: encoding detection, header mapping, streaming rows.

Structural problems (undecodable file, missing columns, unreadable workbook) raise the import
framework's `ImportRefused` (insurance_admin.core.imports): the file is refused before anything
is written. Size, format, encoding and NUL bytes are sniffed there, the same for every import.
"""

import csv
import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext as _

from insurance_admin.core.imports import files as import_files
from insurance_admin.core.imports.files import ImportRefused

# Canonical column -> header names accepted (the national platform's field codes first).
COLUMNS: dict[str, tuple[str, ...]] = {
    "psn_no": ("psn_no", "人员编号"),
    "certno": ("certno", "证件号码", "身份证号码", "身份证号"),
    "psn_name": ("psn_name", "姓名", "人员姓名"),
    "gend": ("gend", "性别"),
    "brdy": ("brdy", "出生日期"),
    "admdvs": ("admdvs", "insu_admdvs", "参保地医保区划", "医保区划", "区划代码", "统筹区"),
    "psn_type": ("psn_type", "人员类别"),
    "emp_type": ("emp_type", "在职退休状态", "在职退休"),
    "psn_insu_stas": ("psn_insu_stas", "参保状态"),
    "begndate": ("begndate", "开始日期", "参保开始日期"),
    "enddate": ("enddate", "结束日期", "参保结束日期"),
}
FIELDS = tuple(COLUMNS)
REQUIRED = ("certno", "psn_name", "gend", "brdy", "admdvs")
_HEADER_LOOKUP = {alias.lower(): canonical for canonical, aliases in COLUMNS.items() for alias in aliases}


file_format = import_files.file_format


def _refused(message) -> ImportRefused:
    return ImportRefused("structure", message)


def map_header(names: list[str]) -> list[str | None]:
    """Canonical name per file column (None: ignored); refuses missing required columns."""
    mapped = [_HEADER_LOOKUP.get((n or "").strip().lstrip("\ufeff").lower()) for n in names]
    missing = [c for c in REQUIRED if c not in mapped]
    if missing:
        raise _refused(_("Missing required columns: %(cols)s.") % {"cols": ", ".join(missing)})
    seen = set()
    for m in mapped:
        if m is not None and m in seen:
            raise _refused(_("Column %(col)s appears twice.") % {"col": m})
        seen.add(m)
    return mapped


def read_csv_header(path: str, encoding: str) -> tuple[list[str], int]:
    """Header names and the byte length of the header line."""
    with open(path, "rb") as fh:
        first = fh.readline()
    try:
        text = first.decode(encoding)
    except UnicodeDecodeError:
        raise ImportRefused("encoding") from None
    names = next(csv.reader([text.lstrip("\ufeff")]), [])
    if not names:
        raise _refused(_("The file is empty."))
    return names, len(first)


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def iter_xlsx(path: str) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(line number, values in FIELDS order) for every data row of the first sheet;
    structural errors raise."""
    # heavy: openpyxl loaded only when an .xlsx file is read
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:
        raise _refused(_("The workbook cannot be read as XLSX.")) from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise _refused(_("The file is empty."))
        mapping = map_header([cell_text(h) for h in header])
        positions = [mapping.index(f) if f in mapping else None for f in FIELDS]
        for line, values in enumerate(rows, start=2):
            if values is None or all(v is None or cell_text(v) == "" for v in values):
                continue
            yield line, tuple(
                "" if p is None or p >= len(values) else cell_text(values[p]) for p in positions
            )
    finally:
        wb.close()


def sniff_upload(path: str, name: str) -> tuple[str, str]:
    """(format, encoding) of an uploaded list, refusing what cannot be read at all: the
    framework's sniffing (size, format, NUL bytes — PostgreSQL stores no NUL in text, so such
    a list would stop the validation half-way instead of rejecting rows — and encoding, the
    gb18030 decoding itself checked while the rows are read, so a bad byte is reported with
    its row), then the header."""
    sniffed = import_files.sniff(path, name, refuse_nul=True, verify_encoding=False)
    if sniffed.format == "xlsx":
        # Read the header now: a broken workbook or a missing column is refused at upload.
        for _row in iter_xlsx(path):
            break
        return sniffed.format, ""
    names, _n = read_csv_header(path, sniffed.encoding)
    map_header(names)
    return sniffed.format, sniffed.encoding

"""Reading and checking a CSV enrollment list column by column (Apache Arrow and NumPy).

`rows.check_row` is the one statement of the rules and of the reasons. This module only
recognises, a block of rows at a time, the rows that are plainly valid in the platform's usual
shape: an 18-character ID number of ASCII digits, dates as YYYY-MM-DD or YYYYMMDD, codes exactly
as listed in `rows`, names of Chinese characters, no spaces to strip. For those rows every rule
is evaluated on whole columns and the checked values are built the same way. Every other row —
anything rejected, and anything unusual that might still be valid (spaces, full-width digits,
lower-case x, Latin names) — goes through `check_row` itself. So a reason is always
`check_row`'s, and a row is never accepted that `check_row` would refuse (a property test runs
both on generated rows and compares them).

The file is read in 1 MB blocks (Python decodes strictly, Arrow parses), so memory stays flat;
duplicates are marked as the blocks go by (`duplicates`). XLSX lists are checked row by row and
handed on in the same block form.
"""

import datetime as dt
import io
import queue
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.utils.translation import gettext as _

from insurance_admin.core.imports.files import ImportRefused

from ..identity import _PROVINCES
from .duplicates import NONE, Duplicates
from .files import FIELDS, iter_xlsx, map_header, read_csv_header
from .rows import (
    CATEGORY_CODES,
    CHECKED,
    EMPLOYMENT_CODES,
    SEX_CODES,
    STAGE_COLUMNS,
    STATUS_CODES,
    VALID_COLUMNS,
    RowContext,
    check_row,
    stage_values,
)

BLOCK_SIZE = 1 << 20  # bytes of CSV per block: ~11,000 rows
PROGRESS_EVERY = 0.5  # seconds between progress writes while a list is read
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int16)
_CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_PROVINCE_CODES = np.array(sorted(int(p) for p in _PROVINCES), dtype=np.int64)
_PSN_NO = r"^[0-9A-Za-z]{0,30}$"
_POW10 = 10 ** np.arange(16, -1, -1, dtype=np.int64)
_DATE_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9])  # YYYY-MM-DD without its separators
_PSN_WEIGHTS = np.random.default_rng(6).integers(0, 2**64, size=4, dtype=np.uint64) | np.uint64(1)  # odd
# jemalloc hands freed block memory back sooner than the default mimalloc (peak RSS of a 2.2 M
# row file: 190 against 215 MiB); the registry is the only user of Arrow in the process.
try:
    pa.set_memory_pool(pa.jemalloc_memory_pool())
except NotImplementedError:  # a pyarrow build without jemalloc
    pass
_ARROW_TYPES = {"text": pa.string(), "date": pa.date32(), "bigint": pa.int64()}
_STAGE_SCHEMA = pa.schema(
    [("line_no", pa.int64()), *((f, pa.string()) for f in FIELDS), ("reason", pa.string()),
     *((c, _ARROW_TYPES[t]) for c, t in CHECKED)]
)


def _fixed(arr: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows of exactly `width` bytes, their bytes as an (n, width) uint8 matrix; other rows
    read as zeros)."""
    ok = pc.equal(pc.binary_length(arr), width).fill_null(False)
    filled = pc.if_else(ok, arr, pa.scalar("0" * width)).cast(pa.binary()).cast(pa.binary(width))
    n = len(filled)
    raw = np.frombuffer(filled.buffers()[1], dtype=np.uint8)
    matrix = raw[filled.offset * width : (filled.offset + n) * width].reshape(n, width)
    return ok.to_numpy(zero_copy_only=False), matrix


def _ymd(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(is a real calendar date, YYYYMMDD as an integer, days since 1970-01-01) of an (n, 8)
    matrix of digit values."""
    c = [digits[:, k].astype(np.int64) for k in range(8)]
    y = c[0] * 1000 + c[1] * 100 + c[2] * 10 + c[3]
    m = c[4] * 10 + c[5]
    d = c[6] * 10 + c[7]
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    dim = _DAYS_IN_MONTH[np.clip(m, 0, 12)] + ((m == 2) & leap)
    real = (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= dim)
    # days from the civil date (H. Hinnant's algorithm), exact for the proleptic Gregorian calendar
    yy = y - (m <= 2)
    era = np.floor_divide(yy, 400)
    yoe = yy - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return real, y * 10000 + m * 100 + d, era * 146097 + doe - 719468


def _date_bytes(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(shaped as YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD — nothing else, no spaces —, the eight
    YYYYMMDD bytes as an (n, 8) uint8 matrix)."""
    ok10, m10 = _fixed(arr, 10)
    ok10 &= ((m10[:, 4] == ord("-")) & (m10[:, 7] == ord("-"))) | ((m10[:, 4] == ord("/")) & (m10[:, 7] == ord("/")))
    ok8, m8 = _fixed(arr, 8)
    return ok10 | ok8, np.where(ok10[:, None], m10[:, _DATE_DIGITS], m8)


def _date8(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A date column as YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD (nothing else, no spaces):
    (is such a real date, YYYYMMDD, days since 1970-01-01)."""
    ok, matrix = _date_bytes(arr)
    digits = matrix.astype(np.int16) - 48
    ok &= ((digits >= 0) & (digits <= 9)).all(axis=1)
    real, ymd, days = _ymd(np.where(ok[:, None], digits, 0))
    return ok & real, ymd, days


def _date8_few(arr: pa.Array, most: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_date8` of a column with few distinct values (start and end dates: most rows share
    one or two): worked out once per distinct value."""
    encoded = pc.dictionary_encode(arr)
    if len(encoded.dictionary) > most:
        return _date8(arr)
    ok, ymd, days = _date8(encoded.dictionary)
    at = encoded.indices.to_numpy(zero_copy_only=False)
    return ok[at], ymd[at], days[at]


def _han_names(arr: pa.Array) -> np.ndarray:
    """Names of 1 to 60 characters, each a CJK ideograph of U+4000–U+9FFF or the middle dot ·
    (nothing str.strip() would remove), read from the UTF-8 bytes: every character starts
    with E4–E9 (three bytes) or is C2 B7. Arrow has checked the bytes are UTF-8, so a byte
    that is not 10xxxxxx starts a character."""
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[start:end] if end > start else np.zeros(0, np.uint8)
    first = (data & 0xC0) != 0x80  # starts a character
    dot = np.zeros(len(data), dtype=bool)
    dot[:-1] = (data[:-1] == 0xC2) & (data[1:] == 0xB7)
    bad = first & ~(((data >= 0xE4) & (data <= 0xE9)) | dot)
    at = offsets - start
    chars = np.concatenate([[0], np.cumsum(first)])[at]
    bads = np.concatenate([[0], np.cumsum(bad)])[at]
    length = np.diff(chars)
    return (np.diff(bads) == 0) & (length >= 1) & (length <= 60)


def _lookup(arr: pa.Array, table: dict, *, lower: bool) -> tuple[np.ndarray, np.ndarray]:
    """(the raw value is exactly a key, index of that key in the keys, the keys) — keys that
    strip()/lower() would change are left out, so such values go to check_row."""
    keys = [k for k in table if k == (k.strip().lower() if lower else k.strip())]
    index = pc.index_in(arr, value_set=pa.array(keys, pa.string()))
    found = pc.is_valid(index).to_numpy(zero_copy_only=False)
    return found, index.fill_null(0).to_numpy(zero_copy_only=False), keys


_SEXES = ("1", "2")


def _pick(choices: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    """choices[index] as an Arrow string array (Arrow's take from the few choices: converting
    a NumPy array of strings costs ten times more)."""
    return pa.array(list(choices) or [""], pa.string()).take(pa.array(index))


def _days(value: dt.date) -> int:
    return (value - dt.date(1970, 1, 1)).days


def plainly_valid(cols: dict[str, pa.Array], ctx: RowContext) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """(mask of rows valid in the usual shape, their checked values for all rows — meaningful
    where the mask is set)."""
    certno = cols["certno"]
    ok, m = _fixed(certno, 18)
    d = m.astype(np.int16) - 48
    ok &= ((d[:, :17] >= 0) & (d[:, :17] <= 9)).all(axis=1)
    ok &= ((d[:, 17] >= 0) & (d[:, 17] <= 9)) | (m[:, 17] == ord("X"))
    d = np.where(ok[:, None], d, 0)
    ok &= np.isin(d[:, 0].astype(np.int64) * 10 + d[:, 1], _PROVINCE_CODES)
    real, born_ymd, born_days = _ymd(d[:, 6:14])
    ok &= real & (born_ymd >= 18900101) & (born_ymd <= int(f"{ctx.today:%Y%m%d}"))
    ok &= _CHECK_CHARS[(d[:, :17] @ _WEIGHTS) % 11] == m[:, 17]
    id_sex = np.where(d[:, 16] % 2 == 1, 0, 1)  # index into _SEXES: "1" male, "2" female

    # The birth date column equals the ID number's date, digit for digit (then every birth-date
    # rule holds: the ID number's date is a real one within the bounds).
    b_ok, b_bytes = _date_bytes(cols["brdy"])
    ok &= b_ok & (b_bytes == m[:, 6:14]).all(axis=1)

    found, idx, keys = _lookup(cols["gend"], SEX_CODES, lower=True)
    sex = np.array([_SEXES.index(SEX_CODES[k]) for k in keys] or [0])[idx]
    ok &= found & (sex == id_sex)

    found, idx, keys = _lookup(cols["admdvs"], ctx.area_ids, lower=False)
    area_id = np.array([ctx.area_ids[k] for k in keys] or [0], dtype=np.int64)[idx]
    ok &= found
    if ctx.scope is not None:
        ok &= np.isin(area_id, np.array(sorted(ctx.scope), dtype=np.int64))

    found, cat_idx, cat_keys = _lookup(cols["psn_type"], CATEGORY_CODES, lower=True)
    ok &= found
    found, emp_idx, emp_keys = _lookup(cols["emp_type"], EMPLOYMENT_CODES, lower=True)
    ok &= found
    found, sta_idx, sta_keys = _lookup(cols["psn_insu_stas"], STATUS_CODES, lower=True)
    ok &= found
    status = np.array([STATUS_CODES[k] == "terminated" for k in sta_keys] or [False])[sta_idx]  # terminated?

    ps, pe = _days(ctx.period_start), _days(ctx.period_end)
    begin_empty = pc.equal(cols["begndate"], "").to_numpy(zero_copy_only=False)
    g_ok, _g, g_days = _date8_few(cols["begndate"])
    ok &= begin_empty | (g_ok & (g_days <= pe))
    start = np.where(begin_empty, max(_days(ctx.effective_date), ps), np.maximum(g_days, ps))
    end_empty = pc.equal(cols["enddate"], "").to_numpy(zero_copy_only=False)
    e_ok, _e, e_days = _date8_few(cols["enddate"])
    ok &= end_empty | (e_ok & (e_days >= start))
    has_end = ~end_empty & (e_days < pe)
    terminated_open = status & ~has_end
    finish = np.where(has_end, e_days, np.maximum(start, _days(ctx.effective_date - dt.timedelta(days=1))))
    finish_set = has_end | terminated_open

    ok &= _han_names(cols["psn_name"])
    ok &= pc.match_substring_regex(cols["psn_no"], _PSN_NO).to_numpy(zero_copy_only=False)

    categories = [CATEGORY_CODES[k] for k in cat_keys]
    values = {
        "c_certno": certno,
        "c_psn_no": pc.if_else(pc.equal(cols["psn_no"], ""), pa.scalar(None, pa.string()), cols["psn_no"]),
        "c_name": cols["psn_name"],
        "sex": _pick(_SEXES, id_sex),
        "birth_date": pa.array(born_days.astype(np.int32), pa.int32()).cast(pa.date32()),
        "area_id": pa.array(area_id, pa.int64()),
        "category": _pick([c[0] for c in categories], cat_idx),
        "category_detail": _pick([c[1] for c in categories], cat_idx),
        "employment": _pick([EMPLOYMENT_CODES[k] for k in emp_keys], emp_idx),
        "status": _pick([STATUS_CODES[k] for k in sta_keys], sta_idx),
        "enrolled_from": pa.array(start.astype(np.int32), pa.int32()).cast(pa.date32()),
        "enrolled_to": pa.array(finish.astype(np.int32), pa.int32(), mask=~finish_set).cast(pa.date32()),
    }
    return ok, values


def check_block(cols: dict[str, pa.Array], first_line: int, ctx: RowContext, texts: dict) -> pa.Table:
    """The checked rows of one block in line order (`STAGE_COLUMNS`): the plainly valid ones
    from whole columns, the others from `check_row` one by one, written over the column values
    at their places. Raw values are kept for every row until the duplicates are known
    (`split`); they are the block's own arrays, not copies."""
    n = len(cols["certno"])
    ok, values = plainly_valid(cols, ctx)
    reason = pa.nulls(n, pa.string())
    slow = np.flatnonzero(~ok)
    if len(slow):
        raw = {f: cols[f].take(pa.array(slow)).to_pylist() for f in FIELDS}
        answers = []
        for j in range(len(slow)):
            given = tuple(raw[f][j] for f in FIELDS)
            verdict, row = check_row(tuple(v.strip() for v in given), ctx, texts)
            answers.append(stage_values(verdict, row, given[1]))
        mask = np.zeros(n, dtype=bool)
        mask[slow] = True
        mask = pa.array(mask)
        by_column = list(zip(*answers, strict=True))
        reason = pc.replace_with_mask(reason, mask, pa.array(by_column[0], pa.string()))
        for k, (column, _type) in enumerate(CHECKED, start=1):
            kind = values[column].type
            values[column] = pc.replace_with_mask(values[column], mask, pa.array(by_column[k], kind))
    line_no = pa.array(np.arange(first_line, first_line + n, dtype=np.int64))
    return pa.table({"line_no": line_no, **{f: cols[f] for f in FIELDS}, "reason": reason, **values},
                    schema=_STAGE_SCHEMA)


def rows_table(rows: list[tuple]) -> pa.Table:
    """Checked rows given one by one (`STAGE_COLUMNS` order) as a block."""
    return pa.Table.from_pylist([dict(zip(STAGE_COLUMNS, r, strict=True)) for r in rows], schema=_STAGE_SCHEMA)


def _certno_keys(certnos: pa.Array) -> np.ndarray:
    """Checked ID numbers (18 characters, 17 ASCII digits first) as the integer of their 17
    digits: exact, the check character follows from them."""
    _ok, matrix = _fixed(certnos, 18)
    return (matrix[:, :17].astype(np.int64) - 48) @ _POW10


def _psn_no_keys(psn_nos: pa.Array) -> np.ndarray:
    """64-bit hashes of person numbers (ASCII ones padded to 32 bytes: a multiply-add over their
    four 8-byte words; Python's hash for the others); a collision only makes a candidate
    (`duplicates`), settled exactly later."""
    ok, matrix = _fixed(pc.utf8_rpad(psn_nos.fill_null(""), width=32, padding=" "), 32)
    words = np.ascontiguousarray(matrix).view(np.uint64)
    keys = (words * _PSN_WEIGHTS).sum(axis=1, dtype=np.uint64).view(np.int64)
    other = np.flatnonzero(~ok)
    if len(other):
        keys[other] = [hash(v) for v in psn_nos.take(pa.array(other)).to_pylist()]
    return keys


def split(table: pa.Table, duplicates: Duplicates) -> tuple[pa.Table, pa.Table]:
    """(the block's valid rows: `VALID_COLUMNS`, its rejected rows: `REJECTED_COLUMNS`). Later
    occurrences of an ID number and person-number candidates (`duplicates`) go with the
    rejected rows, reason still empty and checked values kept, for `bulk.settle`."""
    valid = pc.is_null(table.column("reason")).to_numpy(zero_copy_only=False)
    kind = np.full(table.num_rows, NONE, dtype=np.int8)
    if valid.all():  # the usual block: no copies of its columns
        psn_nos = table.column("c_psn_no").combine_chunks()
        certnos = table.column("c_certno").combine_chunks()
    else:
        rows = pa.array(np.flatnonzero(valid))
        psn_nos = table.column("c_psn_no").combine_chunks().take(rows)
        certnos = table.column("c_certno").combine_chunks().take(rows)
    kind[valid] = duplicates.mark(
        _certno_keys(certnos), _psn_no_keys(psn_nos), pc.is_valid(psn_nos).to_numpy(zero_copy_only=False),
    )
    keep = valid & (kind == NONE)
    rejected = table.filter(pa.array(~keep))
    names = np.array([None, "certno", "psn_no"], dtype=object)[kind[~keep]]
    rejected = rejected.append_column("dup", pa.array(names, pa.string()))
    good = table.select(VALID_COLUMNS)  # the raw values stay behind, uncopied
    return (good if keep.all() else good.filter(pa.array(keep))), rejected


class _Ragged:
    def __init__(self):
        self.row = None

    def __call__(self, row) -> str:
        if not (row.text or "").strip():
            return "skip"  # a blank line
        self.row = row
        return "error"


def _pieces(fh) -> Iterator[bytes]:
    """The file's bytes after the header in pieces of about BLOCK_SIZE ending at a line break
    outside quotes (a `"` byte never occurs inside a GBK/GB18030 or UTF-8 multi-byte
    character, so counting bytes is exact)."""
    carry = b""
    while chunk := fh.read(BLOCK_SIZE):
        data = carry + chunk
        cut = data.rfind(b"\n")
        while cut >= 0 and data.count(b'"', 0, cut) % 2:
            cut = data.rfind(b"\n", 0, cut)
        if cut < 0:
            carry = data
            continue
        yield data[: cut + 1]
        carry = data[cut + 1 :]
    if carry:
        yield carry


def read_blocks(path: str, encoding: str) -> Iterator[tuple[dict[str, pa.Array], int, int]]:
    """(columns in FIELDS order as strings, rows so far, bytes read so far) per block of the
    file. A structural problem (encoding, ragged line, broken quoting) raises ImportRefused.

    Python cuts the file into pieces and decodes them strictly; Arrow parses each piece. (Arrow's
    own streaming reader keeps several blocks in flight: 60-130 MB more at this file size.)"""
    names, _header_len = read_csv_header(path, encoding)
    mapping = map_header(names)
    width = len(names)
    read_options = pacsv.ReadOptions(column_names=[f"c{i}" for i in range(width)], use_threads=False)
    convert_options = pacsv.ConvertOptions(
        column_types={f"c{i}": pa.string() for i in range(width)}, strings_can_be_null=False,
    )
    codec = "utf-8" if encoding == "utf-8-sig" else encoding  # the BOM is in the header line
    rows, lines = 0, 1
    with open(path, "rb") as fh:
        fh.readline()
        for piece in _pieces(fh):
            ragged = _Ragged()
            try:
                text = piece.decode(codec).encode("utf-8")
            except UnicodeDecodeError:
                raise ImportRefused("encoding") from None
            try:
                block = pacsv.read_csv(
                    io.BytesIO(text), read_options=read_options, convert_options=convert_options,
                    parse_options=pacsv.ParseOptions(invalid_row_handler=ragged),
                )
            except pa.ArrowInvalid as exc:
                if ragged.row is not None:
                    line = lines + (ragged.row.number or 1)
                    raise ImportRefused(
                        "structure",
                        _("Line %(line)d has %(got)d columns, the header has %(want)d.")
                        % {"line": line, "got": ragged.row.actual_columns, "want": width}
                    ) from None
                error = str(exc).splitlines()[0]
                raise ImportRefused("structure", _("The file's CSV structure is broken: %(error)s") % {"error": error}) from None
            lines += piece.count(b"\n")
            cols = {}
            for f in FIELDS:
                if f in mapping:
                    cols[f] = block.column(mapping.index(f)).combine_chunks()
                else:
                    cols[f] = pa.array([""] * block.num_rows, pa.string())
            yield cols, rows, fh.tell()
            rows += block.num_rows


def csv_blocks(path: str, encoding: str, ctx: RowContext, texts: dict) -> Iterator[tuple[pa.Table, int]]:
    """(checked block, bytes read so far) of a CSV list."""
    for cols, before, bytes_read in read_blocks(path, encoding):
        yield check_block(cols, before + 2, ctx, texts), bytes_read  # line 1: the header


def xlsx_blocks(path: str, ctx: RowContext, texts: dict, size: int = 5000) -> Iterator[tuple[pa.Table, None]]:
    """(checked block, None) of an XLSX list, checked row by row."""
    rows = []
    for line, values in iter_xlsx(path):
        reason, row = check_row(values, ctx, texts)
        rows.append((line, *values, *stage_values(reason, row, values[1])))
        if len(rows) >= size:
            yield rows_table(rows), None
            rows = []
    if rows:
        yield rows_table(rows), None


def xlsx_raw_rows(path: str, lines: set[int]) -> dict[int, tuple[str, ...]]:
    """The raw values (`FIELDS` order) of some lines of an XLSX list, read again."""
    return {line: values for line, values in iter_xlsx(path) if line in lines}


def raw_rows(path: str, encoding: str, lines: set[int]) -> dict[int, tuple[str, ...]]:
    """The raw values (`FIELDS` order) of some lines of a CSV list, read again."""
    found = {}
    for cols, before, _bytes in read_blocks(path, encoding):
        wanted = [line - before - 2 for line in lines if 0 <= line - before - 2 < len(cols["certno"])]
        if wanted:
            taken = {f: cols[f].take(pa.array(wanted)).to_pylist() for f in FIELDS}
            for j, i in enumerate(wanted):
                found[before + 2 + i] = tuple(taken[f][j] for f in FIELDS)
    return found


def load(*, blocks: Iterator[tuple[pa.Table, int | None]], write: Callable[[pa.Table, pa.Table], None],
         progress: Callable[..., None]) -> None:
    """Take the checked blocks in order, mark the duplicates and hand every block's valid and
    rejected rows to `write`.

    A thread reads and checks the next blocks while this one writes (on PostgreSQL the
    server parses the COPY on the other core meanwhile); at most two checked blocks wait."""
    queued: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    duplicates = Duplicates()

    def produce():
        try:
            for table, bytes_read in blocks:
                if stop.is_set():
                    return
                queued.put((*split(table, duplicates), bytes_read))
            queued.put(None)
        except BaseException as exc:  # handed to the writing thread, raised there
            queued.put(exc)

    worker = threading.Thread(target=produce, name="registry-check", daemon=True)
    worker.start()
    read = valid = rejected = 0
    told, last = None, None  # the first block is always told: the page shows movement at once
    try:
        while (item := queued.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            good, bad, bytes_read = item
            write(good, bad)
            read, valid, rejected = read + good.num_rows + bad.num_rows, valid + good.num_rows, rejected + bad.num_rows
            told = {"rows_read": read, "rows_valid": valid, "rows_rejected": rejected,
                    **({} if bytes_read is None else {"bytes_read": bytes_read})}
            if last is None or time.monotonic() - last >= PROGRESS_EVERY:  # one UPDATE per interval, not per block
                progress(**told)
                told, last = None, time.monotonic()
        if told is not None:
            progress(**told)
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting to put
            try:
                queued.get(timeout=0.05)
            except queue.Empty:
                pass
        worker.join()

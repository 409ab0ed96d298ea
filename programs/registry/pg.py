"""PostgreSQL fast path: stream the raw file into an UNLOGGED table with COPY (PostgreSQL
decodes GBK/GB18030 or UTF-8 and parses the CSV), then check every row in ONE statement that
applies exactly the rules of `rows.check_row`, with the same code tables and reason texts.

Python never touches a row: memory stays flat whatever the file size.
"""

import datetime as dt
import time

from django.db import connection, transaction

from ..identity import _PROVINCES
from .engine import stage_table
from .files import FIELDS, StructuralError, map_header, read_csv_header
from .rows import CATEGORY_CODES, EMPLOYMENT_CODES, SEX_CODES, STATUS_CODES, RowContext

COPY_BATCH = 8 << 20  # bytes per COPY statement; progress is reported between them
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
PG_ENCODING = {"utf-8-sig": "UTF8", "gb18030": "GB18030"}


def raw_table(batch_id: int) -> str:
    return f"registry_raw_{int(batch_id)}"


def _pieces(path: str, offset: int):
    """Byte pieces of the file ending at a line break outside quotes (a `"` byte never occurs
    inside a GBK/GB18030 or UTF-8 multi-byte character, so counting bytes is exact)."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        carry = b""
        while True:
            chunk = fh.read(COPY_BATCH)
            if not chunk:
                if carry:
                    yield carry
                return
            data = carry + chunk
            cut = data.rfind(b"\n")
            while cut >= 0 and data.count(b'"', 0, cut) % 2:
                cut = data.rfind(b"\n", 0, cut)
            if cut < 0:
                carry = data
                continue
            yield data[: cut + 1]
            carry = data[cut + 1 :]


def _date_ok(x: str, *, digits: bool = False) -> str:
    """SQL: the 8-digit string x is a real calendar date (no exception on garbage).
    `digits`: x is already known to be 8 ASCII digits (skips that test)."""
    y, m, d = f"substr({x}, 1, 4)", f"substr({x}, 5, 2)", f"substr({x}, 7, 2)"
    leap = f"(mod({y}::int, 4) = 0 AND (mod({y}::int, 100) <> 0 OR mod({y}::int, 400) = 0))"
    dim = (
        f"CASE WHEN {m} = '02' THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
        f"WHEN {m} IN ('04', '06', '09', '11') THEN 30 ELSE 31 END"
    )
    shape = "" if digits else f"char_length({x}) = 8 AND translate({x}, '0123456789', '') = '' AND "
    return (
        f"(CASE WHEN {shape}"
        f"{m} BETWEEN '01' AND '12' AND {y} >= '0001' "
        f"AND {d} BETWEEN '01' AND '31' THEN {d}::int <= ({dim}) ELSE false END)"
    )


def lit(value) -> str:
    """A SQL literal (standard_conforming_strings is on since PostgreSQL 9.1)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def _values(rows: list[tuple]) -> str:
    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


def _tmpl(template: str, **exprs: str) -> str:
    """A reason template with `{name}` placeholders as a SQL concatenation of literals."""
    parts, rest = [], template
    while "{" in rest:
        head, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        parts += [lit(head), f"CAST({exprs[name]} AS text)"]
    parts.append(lit(rest))
    return " || ".join(parts)


def load_and_check(*, batch, ctx: RowContext, texts: dict, progress) -> None:
    path, batch_id = batch.file.path, batch.pk
    names, header_len = read_csv_header(path, batch.encoding)
    mapping = map_header(names)
    raw, stage = raw_table(batch_id), stage_table(batch_id)
    cols = [f"col_{i}" for i in range(len(names))]
    cur_wrapper = connection.cursor()
    with cur_wrapper as cur:
        cur.execute(f"DROP TABLE IF EXISTS {raw}")
        cur.execute(
            f"CREATE UNLOGGED TABLE {raw} (line_no bigint GENERATED ALWAYS AS IDENTITY, "
            + ", ".join(f"{c} text" for c in cols) + ")"
        )
        copy_sql = (
            f"COPY {raw} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv, ENCODING '{PG_ENCODING[batch.encoding]}')"
        )
        done, lines, last = header_len, 0, 0.0
        pg_cursor = cur.cursor
        try:
            for piece in _pieces(path, header_len):
                # one transaction per piece (a savepoint inside an outer transaction): a
                # refused piece leaves the connection usable for the clean-up below
                with transaction.atomic(), pg_cursor.copy(copy_sql) as copy:
                    copy.write(piece)
                done += len(piece)
                lines += piece.count(b"\n")
                if time.monotonic() - last > 0.5:
                    last = time.monotonic()
                    progress(bytes_read=done, rows_read=lines)
        except Exception as exc:  # psycopg's DataError/BadCopyFileFormat: the file's fault
            cur.execute(f"DROP TABLE IF EXISTS {raw}")
            text = str(exc).splitlines()[0]
            if "invalid byte sequence" in text or "has no equivalent" in text:
                raise StructuralError(texts_encoding()) from None
            raise StructuralError(texts_structure() % {"error": text}) from None
        progress(bytes_read=done, rows_read=lines, phase="checking")
        cur.execute(_check_sql(mapping=mapping, raw=raw, stage=stage, ctx=ctx, texts=texts))
        cur.execute(f"DROP TABLE {raw}")


def texts_encoding() -> str:
    from django.utils.translation import gettext

    return gettext("The file is neither UTF-8 nor GBK/GB18030 text.")


def texts_structure() -> str:
    from django.utils.translation import gettext

    return gettext("The file's CSV structure is broken: %(error)s")


def _check_sql(*, mapping, raw, stage, ctx: RowContext, texts: dict) -> str:
    """One CREATE TABLE … AS SELECT applying `rows.check_row`'s rules in the same order."""
    select_raw = ["line_no + 1 AS line_no"]
    for field in FIELDS:
        if field in mapping:
            select_raw.append(f"btrim(COALESCE(col_{mapping.index(field)}, '')) AS {field}")
        else:
            select_raw.append(f"''::text AS {field}")
    today8 = f"{ctx.today:%Y%m%d}"
    ps8, pe8 = f"{ctx.period_start:%Y%m%d}", f"{ctx.period_end:%Y%m%d}"
    default_start = max(ctx.effective_date, ctx.period_start)
    eff_1 = ctx.effective_date - dt.timedelta(days=1)

    # cb: the ID number's bytes (ASCII once its shape is checked); get_byte is O(1), where
    # substr + ascii walk the multi-byte text and allocate for every digit.
    weighted = " + ".join(f"(get_byte(cb, {i}) - 48) * {w}" for i, w in enumerate(_WEIGHTS))
    expected = f"substr('10X98765432', mod({weighted}, 11) + 1, 1)"
    id_sex = "(CASE WHEN mod(ascii(substr(cn, 17, 1)) - 48, 2) = 1 THEN '1' ELSE '2' END)"

    def t(key, **exprs):
        return _tmpl(texts[key], **exprs)

    scope_clause = "false"
    if ctx.scope is not None:
        scope_clause = (
            f"ar.area_id NOT IN ({', '.join(str(int(a)) for a in sorted(ctx.scope))})" if ctx.scope else "true"
        )
    provinces = ", ".join(lit(p) for p in sorted(_PROVINCES))
    id_date = "substr(cn, 7, 4) || '-' || substr(cn, 11, 2) || '-' || substr(cn, 13, 2)"
    start8 = f"(CASE WHEN begndate = '' THEN '{default_start:%Y%m%d}' ELSE greatest(bg8, '{ps8}') END)"
    reason_parts = [
        f"WHEN nm = '' THEN {t('name_missing')}",
        f"WHEN char_length(nm) > 60 THEN {t('name_long')}",
        f"WHEN char_length(cn) <> 18 THEN {t('certno_length', n='char_length(cn)')}",
        f"WHEN cn !~ '^[0-9]{{17}}[0-9X]$' THEN {t('certno_shape')}",
        f"WHEN substr(cn, 1, 2) NOT IN ({provinces}) THEN {t('certno_province', code='substr(cn, 1, 2)')}",
        f"WHEN NOT {_date_ok('substr(cn, 7, 8)', digits=True)} OR substr(cn, 7, 4) < '1890' "
        f"THEN {t('certno_date', date='substr(cn, 7, 8)')}",
        f"WHEN substr(cn, 7, 8) > '{today8}' THEN {t('certno_future', date='substr(cn, 7, 8)')}",
        f"WHEN substr(cn, 18, 1) <> {expected} THEN {t('certno_check', expected=expected, got='substr(cn, 18, 1)')}",
        # The ID number's date is a real past date by now: a birth date equal to it needs no
        # further check (the usual case), so the costly date test runs only on the others.
        f"WHEN b8 <> substr(cn, 7, 8) AND NOT {_date_ok('b8')} THEN {t('brdy_format', value='brdy')}",
        f"WHEN b8 <> substr(cn, 7, 8) AND b8 > '{today8}' THEN {t('brdy_future', value='brdy')}",
        f"WHEN b8 <> substr(cn, 7, 8) THEN {t('brdy_mismatch', value='brdy', id_date=id_date)}",
        f"WHEN sx.sex IS NULL THEN {t('gend_unknown', value='gend')}",
        f"WHEN sx.sex <> {id_sex} THEN {t('gend_mismatch', value='gend')}",
        f"WHEN ar.area_id IS NULL THEN {t('area_unknown', value='admdvs')}",
        f"WHEN {scope_clause} THEN {t('area_scope', value='admdvs')}",
        f"WHEN cat.category IS NULL THEN {t('category', value='psn_type')}",
        f"WHEN emp.employment IS NULL THEN {t('employment', value='emp_type')}",
        f"WHEN sta.status IS NULL THEN {t('status', value='psn_insu_stas')}",
        f"WHEN begndate <> '' AND NOT {_date_ok('bg8')} THEN {t('begin_format', value='begndate')}",
        f"WHEN begndate <> '' AND bg8 > '{pe8}' THEN {t('begin_outside', value='begndate')}",
        f"WHEN enddate <> '' AND NOT {_date_ok('en8')} THEN {t('end_format', value='enddate')}",
        f"WHEN enddate <> '' AND en8 < {start8} THEN {t('end_before', value='enddate')}",
        f"WHEN char_length(psn_no) > 30 THEN {t('psn_no_long', value='psn_no')}",
    ]
    reason = "CASE " + " ".join(reason_parts) + " END"
    # Dates already known to be real YYYYMMDD dates (years >= 1890): the plain cast reads
    # them as ISO 8601 and is cheaper than to_date's format parsing.
    start = f"CAST({start8} AS date)"
    finish = f"(CASE WHEN enddate <> '' AND en8 < '{pe8}' THEN CAST(en8 AS date) END)"
    checked_cols = [
        "reason",
        "cn AS c_certno",
        "CASE WHEN reason IS NULL THEN NULLIF(psn_no, '') END AS c_psn_no",
        "CASE WHEN reason IS NULL THEN nm END AS c_name",
        f"CASE WHEN reason IS NULL THEN {id_sex} END AS sex",
        "CASE WHEN reason IS NULL THEN CAST(substr(cn, 7, 8) AS date) END AS birth_date",
        "CASE WHEN reason IS NULL THEN area_id END AS area_id",
        "CASE WHEN reason IS NULL THEN category END AS category",
        "CASE WHEN reason IS NULL THEN category_detail END AS category_detail",
        "CASE WHEN reason IS NULL THEN employment END AS employment",
        "CASE WHEN reason IS NULL THEN status END AS status",
        f"CASE WHEN reason IS NULL THEN {start} END AS enrolled_from",
        f"CASE WHEN reason IS NULL THEN CASE WHEN status = 'terminated' AND {finish} IS NULL "
        f"THEN greatest({start}, {lit(eff_1)}) ELSE {finish} END END AS enrolled_to",
    ]
    cat_rows = [(k, v[0], v[1]) for k, v in CATEGORY_CODES.items()]
    area_rows = [(code, int(pk)) for code, pk in ctx.area_ids.items()] or [("", 0)]
    return f"""
        CREATE UNLOGGED TABLE {stage} AS
        SELECT line_no, {", ".join(FIELDS)}, {", ".join(checked_cols)}
        FROM (
            SELECT n.*, ar.area_id, cat.category, cat.detail AS category_detail, emp.employment, sta.status,
                   {reason} AS reason
            FROM (
                SELECT r.*, upper(replace(r.certno, ' ', '')) AS cn,
                       convert_to(upper(replace(r.certno, ' ', '')), 'UTF8') AS cb, r.psn_name AS nm,
                       translate(r.brdy, '-/', '') AS b8,
                       translate(r.begndate, '-/', '') AS bg8,
                       translate(r.enddate, '-/', '') AS en8
                FROM (SELECT {", ".join(select_raw)} FROM {raw}) r
                OFFSET 0
            ) n
            LEFT JOIN (VALUES {_values(cat_rows)}) cat(code, category, detail) ON cat.code = lower(n.psn_type)
            LEFT JOIN (VALUES {_values(list(EMPLOYMENT_CODES.items()))}) emp(code, employment) ON emp.code = lower(n.emp_type)
            LEFT JOIN (VALUES {_values(list(STATUS_CODES.items()))}) sta(code, status) ON sta.code = lower(n.psn_insu_stas)
            LEFT JOIN (VALUES {_values(list(SEX_CODES.items()))}) sx(code, sex) ON sx.code = lower(n.gend)
            LEFT JOIN (VALUES {_values(area_rows)}) ar(code, area_id) ON ar.code = n.admdvs
            OFFSET 0
        ) c
    """

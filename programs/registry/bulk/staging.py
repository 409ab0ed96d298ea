"""Step 1, validation: the checked blocks staged, then what needs the whole list settled.

Blocks checked by `columnar` (CSV column by column, XLSX row by row) are staged by COPY on
PostgreSQL and executemany elsewhere: the valid rows into the stage table, the rejected ones
(with raw values and reason) into the rejected table. Nothing in the registry changes."""

import io
from collections.abc import Callable

from django.db import connection, transaction

from insurance_admin.core.imports import rejected as rejected_file

from ..files import FIELDS
from ..rows import CHECKED, REJECTED_COLUMNS, VALID_COLUMNS
from .tables import PC, P, db_date, is_postgres, plans, rejected_table, stage_table, unlogged

Progress = Callable[..., None]


def _tmpl(template: str, **exprs: str) -> tuple[str, list[str]]:
    """A reason template with `{name}` placeholders as a SQL concatenation: (sql, params)."""
    sql, params, rest = [], [], template
    while "{" in rest:
        head, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        sql.append("%s")
        params.append(head)
        sql.append(f"CAST({exprs[name]} AS text)")
    sql.append("%s")
    params.append(rest)
    return " || ".join(sql), params


_TYPES = {"line_no": "bigint", **dict.fromkeys(FIELDS, "text"), "reason": "text", **dict(CHECKED), "dup": "text"}


def _create_tables(cur, batch_id: int) -> None:
    for table, columns in ((stage_table(batch_id), VALID_COLUMNS), (rejected_table(batch_id), REJECTED_COLUMNS)):
        cur.execute(f"CREATE {unlogged()}TABLE {table} ({', '.join(f'{c} {_TYPES[c]}' for c in columns)})")


def _writer(cur, table: str, columns: tuple[str, ...]) -> Callable:
    """A function writing a block (Arrow table with `columns`) into `table`: COPY on
    PostgreSQL, executemany elsewhere."""
    if is_postgres():
        # heavy optional path: Arrow loaded only when a large list is applied
        import pyarrow.csv as pacsv

        copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")

        def write(block):
            if block.num_rows:
                sink = io.BytesIO()
                pacsv.write_csv(block, sink, write_options=options)  # NULL unquoted, '' quoted
                with cur.cursor.copy(copy_sql) as copy:
                    copy.write(sink.getbuffer())

        return write
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    dates = [_TYPES[c] == "date" for c in columns]

    def write(block):
        if block.num_rows:
            rows = zip(*(block.column(c).to_pylist() for c in columns), strict=True)
            cur.executemany(insert, [tuple(db_date(v) if d else v for v, d in zip(r, dates, strict=True)) for r in rows])

    return write


def load(*, batch_id: int, blocks, progress: Progress) -> None:
    """Stage a list's checked blocks (`columnar.csv_blocks` or `columnar.xlsx_blocks`): the
    valid rows into the stage table, the rejected ones into the rejected table."""
    # heavy: columnar loads Arrow and NumPy, only for the bulk path
    from .. import columnar

    with connection.cursor() as cur:
        _create_tables(cur, batch_id)
        valid = _writer(cur, stage_table(batch_id), VALID_COLUMNS)
        rejected = _writer(cur, rejected_table(batch_id), REJECTED_COLUMNS)

        def write(good, bad):
            valid(good)
            rejected(bad)

        columnar.load(blocks=blocks, write=write, progress=progress)


def settle(*, batch_id: int, texts: dict, raw_rows: Callable[[set[int]], dict[int, tuple]]) -> None:
    """Decide what needs the whole list or the registry: the reasons of the duplicates marked
    while reading (the first line of each), the person-number candidates (exactly, by value)
    and person numbers that belong to another person in the registry. `raw_rows` reads the
    raw values of some lines again from the file (for the last: rare)."""
    stage, rejected = stage_table(batch_id), rejected_table(batch_id)
    with transaction.atomic(), connection.cursor() as cur:
        if is_postgres():
            cur.execute(f"ANALYZE {stage}")
            cur.execute(f"ANALYZE {rejected}")
        else:
            # PostgreSQL hashes these joins; SQLite needs the indexes.
            cur.execute(f"CREATE INDEX {stage}_certno ON {stage} (c_certno)")
            cur.execute(f"CREATE INDEX {stage}_psn_no ON {stage} (c_psn_no)")
        # A person number on two ID numbers: among the staged row and the candidates with the
        # same value, the first line stands (a hash collision leaves a candidate first).
        pn_sql, pn_params = _tmpl(texts["psn_no_duplicate"], value=f"{rejected}.c_psn_no", line="f.first_line")
        cur.execute(
            f"""UPDATE {rejected} SET reason = {pn_sql}
                FROM (SELECT c_psn_no, MIN(line_no) AS first_line FROM (
                        SELECT c_psn_no, line_no FROM {stage}
                        WHERE c_psn_no IN (SELECT c_psn_no FROM {rejected} WHERE dup = 'psn_no')
                        UNION ALL SELECT c_psn_no, line_no FROM {rejected} WHERE dup = 'psn_no') x
                      GROUP BY c_psn_no) f
                WHERE {rejected}.dup = 'psn_no' AND {rejected}.c_psn_no = f.c_psn_no
                  AND {rejected}.line_no <> f.first_line""",
            pn_params,
        )
        cols = ", ".join(VALID_COLUMNS)
        cur.execute(f"INSERT INTO {stage} ({cols}) SELECT {cols} FROM {rejected} WHERE dup = 'psn_no' AND reason IS NULL")
        cur.execute(f"DELETE FROM {rejected} WHERE dup = 'psn_no' AND reason IS NULL")
        # A person listed twice: the first line with the ID number stands.
        dup_sql, dup_params = _tmpl(texts["duplicate"], line="f.first_line")
        cur.execute(
            f"""UPDATE {rejected} SET reason = {dup_sql}
                FROM (SELECT c_certno, MIN(line_no) AS first_line FROM (
                        SELECT c_certno, line_no FROM {stage}
                        WHERE c_certno IN (SELECT c_certno FROM {rejected} WHERE dup = 'certno')
                        UNION ALL SELECT c_certno, line_no FROM {rejected} WHERE dup IS NOT NULL) x
                      GROUP BY c_certno) f
                WHERE {rejected}.dup = 'certno' AND {rejected}.c_certno = f.c_certno""",
            dup_params,
        )
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {P} WHERE {PC.psn_no} IS NOT NULL)")
        if cur.fetchone()[0]:
            # Found by a SELECT (PostgreSQL runs it as a parallel hash join; a DELETE cannot
            # be parallel), deleted by line number: almost always there is none.
            plans(cur, whole_tables=True)
            cur.execute(
                f"""SELECT s.line_no, s.c_psn_no, s.c_certno FROM {stage} s JOIN {P} p ON p.{PC.psn_no} = s.c_psn_no
                    WHERE p.{PC.certno} <> s.c_certno"""
            )
            taken = cur.fetchall()
            if taken:
                lines = sorted(line for line, _p, _c in taken)
                for at in range(0, len(lines), 1000):
                    part = lines[at:at + 1000]
                    cur.execute(f"DELETE FROM {stage} WHERE line_no IN ({', '.join(['%s'] * len(part))})", part)
                raw = raw_rows({line for line, _p, _c in taken})
                cur.executemany(
                    f"INSERT INTO {rejected} (line_no, {', '.join(FIELDS)}, reason, c_certno) "
                    f"VALUES ({', '.join(['%s'] * (len(FIELDS) + 3))})",
                    [(line, *raw[line], texts["psn_no_taken"].format(value=psn_no), certno)
                     for line, psn_no, certno in sorted(taken)],
                )


def counts(batch_id: int) -> tuple[int, int]:
    """(rows read, rows rejected)."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT (SELECT COUNT(*) FROM {stage_table(batch_id)}), (SELECT COUNT(*) FROM {rejected_table(batch_id)})")
        valid, rejected = cur.fetchone()
    return valid + rejected, rejected


def rejected_csv(batch_id: int, header_reason: str, header_line: str) -> bytes:
    """The rejected rows with their reasons, as UTF-8 CSV with a BOM (opens in Excel). Cells
    are the file's own text, so formula-looking ones are neutralised (`core.imports.rejected`)."""

    def rows():
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT line_no, {', '.join(FIELDS)}, reason FROM {rejected_table(batch_id)} ORDER BY line_no"
            )
            while chunk := cur.fetchmany(5000):
                yield from chunk

    return rejected_file.csv_bytes([header_line, *FIELDS, header_reason], rows())

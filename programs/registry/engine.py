"""Staging, set-based checks and the one-transaction application of an enrollment list.

Tables per batch (dropped when the batch is done): `registry_stage_<id>` holds every row of the
file — raw values for the rejected-rows report, the checked values and the rejection reason —
and `registry_map_<id>` joins the rows to existing persons and enrollments while applying.
The SQL below runs on SQLite and PostgreSQL alike; PostgreSQL adds the bulk first load
(`IndexRebuild`, reserved person ids). CSV blocks checked by `columnar` are staged by COPY on
PostgreSQL and executemany elsewhere; XLSX rows are checked one by one (`load_python`).
"""

import contextlib
import csv
import datetime as dt
import io
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction

from .files import FIELDS, iter_xlsx
from .rows import RowContext, check_row, stage_values

Progress = Callable[..., None]

CHECKED = [
    ("reason", "text"),
    ("c_certno", "text"),
    ("c_psn_no", "text"),
    ("c_name", "text"),
    ("sex", "text"),
    ("birth_date", "date"),
    ("area_id", "bigint"),
    ("category", "text"),
    ("category_detail", "text"),
    ("employment", "text"),
    ("status", "text"),
    ("enrolled_from", "date"),
    ("enrolled_to", "date"),
]
P = "programs_insuredperson"
E = "programs_enrollment"
H = "programs_enrollmentperiod"


INSERT_ENROLLMENTS = (
    f"INSERT INTO {E} (person_id, contract_id, area_id, category, category_detail, employment, health,"
    " continuous_no_claim_3y, student, enrolled_from, enrolled_to, status, source, attributes_from)"
)


def stage_table(batch_id: int) -> str:
    return f"registry_stage_{int(batch_id)}"


def map_table(batch_id: int) -> str:
    return f"registry_map_{int(batch_id)}"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _unlogged() -> str:
    # Staging data is reproducible from the file: no WAL for it on PostgreSQL.
    return "UNLOGGED " if is_postgres() else ""


def drop_tables(batch_id: int) -> None:
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {map_table(batch_id)}")
        cur.execute(f"DROP TABLE IF EXISTS {stage_table(batch_id)}")


def staged_batch_ids() -> set[int]:
    """Batch ids that have a stage or map table in the database."""
    found = set()
    for name in connection.introspection.table_names():
        for prefix in ("registry_stage_", "registry_map_"):
            if name.startswith(prefix) and name[len(prefix):].isdigit():
                found.add(int(name[len(prefix):]))
    return found


def stage_exists(batch_id: int) -> bool:
    return stage_table(batch_id) in connection.introspection.table_names()


def _date(value):
    return None if value is None else connection.ops.adapt_datefield_value(value)


def _dated(checked: tuple) -> tuple:
    """The checked columns (`CHECKED` order) with their dates adapted for executemany."""
    return tuple(_date(v) if kind == "date" else v for v, (_name, kind) in zip(checked, CHECKED, strict=True))


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


# --- loading ------------------------------------------------------------------------------


def _create_stage(cur, stage: str) -> str:
    """Create the stage table; returns its INSERT statement."""
    cols = ", ".join(f"{c} text" for c in FIELDS)
    checked = ", ".join(f"{c} {t}" for c, t in CHECKED)
    cur.execute(f"CREATE {_unlogged()}TABLE {stage} (line_no bigint, {cols}, {checked})")
    insert_cols = ["line_no", *FIELDS, *(c for c, _ in CHECKED)]
    placeholders = ", ".join(["%s"] * len(insert_cols))
    return f"INSERT INTO {stage} ({', '.join(insert_cols)}) VALUES ({placeholders})"


def load_csv(*, batch_id: int, path: str, encoding: str, ctx: RowContext, texts: dict, progress: Progress) -> None:
    """A CSV list, read and checked a block of rows at a time (`columnar`). PostgreSQL takes
    each block by COPY; elsewhere by executemany."""
    import pyarrow.csv as pacsv

    from . import columnar

    stage = stage_table(batch_id)
    with connection.cursor() as cur:
        insert = _create_stage(cur, stage)
        if is_postgres():
            copy_sql = f"COPY {stage} ({', '.join(columnar.STAGE_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
            options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")

            def write(table):
                sink = io.BytesIO()
                pacsv.write_csv(table, sink, write_options=options)  # NULL unquoted, '' quoted
                with cur.cursor.copy(copy_sql) as copy:
                    copy.write(sink.getbuffer())
        else:
            def write(table):
                raw = len(FIELDS) + 1  # line_no and the raw values precede the checked columns
                rows = zip(*(table.column(c).to_pylist() for c in columnar.STAGE_COLUMNS), strict=True)
                cur.executemany(insert, [(*r[:raw], *_dated(r[raw:])) for r in rows])

        columnar.load(path=path, encoding=encoding, ctx=ctx, texts=texts, write=write, progress=progress)


def load_python(*, batch_id: int, path: str, ctx: RowContext, texts: dict, progress: Progress,
                file_size: int) -> None:
    """Read, check row by row and insert into the stage table (XLSX)."""
    stage = stage_table(batch_id)
    with connection.cursor() as cur:
        insert = _create_stage(cur, stage)
        buf, read, valid, rejected = [], 0, 0, 0
        last = time.monotonic()
        for line, values in iter_xlsx(path):
            reason, row = check_row(values, ctx, texts)
            read += 1
            rejected += row is None
            valid += row is not None
            buf.append((line, *values, *_dated(stage_values(reason, row, values[1]))))
            if len(buf) >= 5000:
                cur.executemany(insert, buf)
                buf.clear()
                if time.monotonic() - last > 1:
                    last = time.monotonic()
                    progress(rows_read=read, rows_valid=valid, rows_rejected=rejected)
        if buf:
            cur.executemany(insert, buf)
        progress(rows_read=read, rows_valid=valid, rows_rejected=rejected, bytes_read=file_size)


def index_stage(batch_id: int) -> None:
    stage = stage_table(batch_id)
    with connection.cursor() as cur:
        if is_postgres():
            cur.execute(f"ANALYZE {stage}")
        else:
            # PostgreSQL hashes these joins; SQLite needs the indexes.
            cur.execute(f"CREATE INDEX {stage}_certno ON {stage} (c_certno)")
            cur.execute(f"CREATE INDEX {stage}_line ON {stage} (line_no)")
            cur.execute(f"CREATE INDEX {stage}_psn_no ON {stage} (c_psn_no)")


def check_across_rows(*, batch_id: int, texts: dict) -> None:
    """Checks that need the whole file (duplicates) or the registry (person numbers)."""
    stage = stage_table(batch_id)
    with transaction.atomic(), connection.cursor() as cur:
        if is_postgres():
            # The duplicate groups are found by hashing (one pass, in memory), not by sorting.
            cur.execute("SET LOCAL work_mem = '256MB'")
        # A person listed twice: the first line stands, later ones are rejected.
        dup_sql, dup_params = _tmpl(texts["duplicate"], line="d.first_line")
        cur.execute(
            f"""UPDATE {stage} AS s SET reason = {dup_sql}
                FROM (SELECT c_certno, MIN(line_no) AS first_line FROM {stage}
                      WHERE reason IS NULL GROUP BY c_certno HAVING COUNT(*) > 1) d
                WHERE s.c_certno = d.c_certno AND s.reason IS NULL AND s.line_no <> d.first_line""",
            dup_params,
        )
        # One person number, two ID numbers in the file: all but the first are rejected.
        pn_sql, pn_params = _tmpl(texts["psn_no_duplicate"], value="s.c_psn_no", line="d.first_line")
        cur.execute(
            f"""UPDATE {stage} AS s SET reason = {pn_sql}
                FROM (SELECT c_psn_no, MIN(line_no) AS first_line FROM {stage}
                      WHERE reason IS NULL AND c_psn_no IS NOT NULL GROUP BY c_psn_no HAVING COUNT(*) > 1) d
                WHERE s.c_psn_no = d.c_psn_no AND s.reason IS NULL AND s.line_no <> d.first_line""",
            pn_params,
        )
        taken_sql, taken_params = _tmpl(texts["psn_no_taken"], value="s.c_psn_no")
        cur.execute(
            f"""UPDATE {stage} AS s SET reason = {taken_sql}
                FROM {P} p
                WHERE s.reason IS NULL AND s.c_psn_no IS NOT NULL
                  AND p.psn_no = s.c_psn_no AND p.certno <> s.c_certno""",
            taken_params,
        )


def counts(batch_id: int) -> tuple[int, int]:
    """(rows read, rows rejected)."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*), COUNT(reason) FROM {stage_table(batch_id)}")
        total, rejected = cur.fetchone()
    return total, rejected


def rejected_csv(batch_id: int, header_reason: str, header_line: str) -> bytes:
    """The rejected rows with their reasons, as UTF-8 CSV with a BOM (opens in Excel)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header_line, *FIELDS, header_reason])
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT line_no, {', '.join(FIELDS)}, reason FROM {stage_table(batch_id)} "
            "WHERE reason IS NOT NULL ORDER BY line_no"
        )
        while rows := cur.fetchmany(5000):
            writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- applying -------------------------------------------------------------------------------


def bulk_min_rows() -> int:
    """Below this many new rows the registry's indexes are maintained row by row."""
    return settings.REGISTRY_BULK_MIN_ROWS


class IndexRebuild:
    """A bulk load on PostgreSQL: the registry tables' secondary indexes, unique constraints
    and foreign keys are dropped inside the application's transaction and re-created from their
    own definitions (`pg_get_indexdef`, `pg_get_constraintdef`) after the rows are in.

    Building a B-tree by sorting 2.2 M keys takes a second or two where inserting them one by
    one takes tens of seconds, and re-adding a foreign key checks every row in one join instead
    of one look-up per row at commit. The price: the DDL takes ACCESS EXCLUSIVE locks on both
    tables until the commit, so look-ups at the window wait (they do not fail) while a big
    first list is applied. Everything is one transaction: a crash rolls the DDL back with the
    rows, the schema is exactly as before (tests compare the definitions)."""

    def __init__(self, cur, tables: tuple[str, ...], step: Progress):
        self.cur, self.tables, self.step = cur, tables, step

    def definitions(self) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]], list[tuple[str, str, str]]]:
        """(unique constraints, plain indexes, foreign keys) of the tables, primary keys kept:
        other tables' foreign keys point at them."""
        cur = self.cur
        cur.execute(
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
               FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f')
               ORDER BY conrelid::regclass::text, conname""",
            [list(self.tables)],
        )
        rows = cur.fetchall()
        uniques = [(t, n, d) for t, n, d, k in rows if k == "u"]
        fks = [(t, n, d) for t, n, d, k in rows if k == "f"]
        cur.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
               WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
               ORDER BY 1""",
            [list(self.tables)],
        )
        return uniques, cur.fetchall(), fks

    def __enter__(self):
        cur = self.cur
        cur.execute(f"LOCK TABLE {', '.join(self.tables)} IN ACCESS EXCLUSIVE MODE")
        self.uniques, self.indexes, self.fks = self.definitions()
        for table, name, _ in self.fks + self.uniques:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in self.indexes:
            cur.execute(f"DROP INDEX {name}")
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False  # the transaction rolls the DDL back
        self.step("indexes")
        cur = self.cur
        # Sorts for the index builds in memory (PostgreSQL builds B-trees in parallel workers).
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for table, name, definition in self.uniques:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _, definition in self.indexes:
            cur.execute(definition)
        for table, name, definition in self.fks:  # checked in one join each
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        return False


def _bulk_worthwhile(cur, new_rows: int) -> bool:
    """Re-building beats maintaining when the load is big and at least doubles the tables."""
    if not is_postgres() or new_rows < bulk_min_rows():
        return False
    cur.execute(f"SELECT (SELECT COUNT(*) FROM {P}), (SELECT COUNT(*) FROM {E})")
    return new_rows >= max(cur.fetchone())


def individual_enrollments_to_supersede(batch_id: int, contract_id: int) -> list[int]:
    """Individual policies of persons on a group list (Beijing: the group enrollment wins)."""
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT e.id FROM {E} e
                JOIN {P} p ON p.id = e.person_id
                JOIN {stage_table(batch_id)} s ON s.c_certno = p.certno
                WHERE s.reason IS NULL AND e.contract_id = %s
                  AND e.source = 'individual' AND e.status <> 'cancelled'
                ORDER BY e.id""",
            [contract_id],
        )
        return [r[0] for r in cur.fetchall()]


def apply(*, batch_id: int, contract_id: int, source: str, effective_date: dt.date, full_list: bool,
          scope: frozenset[int] | None, step: Progress, superseded: list[int]) -> dict[str, int]:
    """Apply the valid staged rows: persons, new enrollments, dated attribute changes, exits.
    The caller holds the transaction: this is all or nothing."""
    stage, m = stage_table(batch_id), map_table(batch_id)
    eff = _date(effective_date)
    eff_1 = _date(effective_date - dt.timedelta(days=1))
    result = {}
    with connection.cursor() as cur:
        if is_postgres():
            # Statistics of tables filled in this transaction are stale (empty): without this
            # the planner nests loops over millions of rows. Every statement here is set-based.
            cur.execute("SET LOCAL enable_nestloop = off")
            cur.execute("SET LOCAL work_mem = '512MB'")  # 2.2 M-row hash joins in memory, not in batches
            # The import is one transaction: a crash before the commit record is flushed loses
            # nothing but the import itself (the batch can be restarted), never consistency.
            cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {E} WHERE contract_id = %s AND status <> 'cancelled')", [contract_id])
        contract_was_empty = not cur.fetchone()[0]
        first_load = contract_was_empty and not superseded  # nothing to match, change or end
        rebuild = contextlib.nullcontext()
        if first_load:
            cur.execute(f"SELECT COUNT(*) FROM {stage} WHERE reason IS NULL")
            if _bulk_worthwhile(cur, cur.fetchone()[0]):
                rebuild = IndexRebuild(cur, (P, E), step)
        with rebuild:
            step("persons")
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {P})")
            registry_was_empty = not cur.fetchone()[0]
            if first_load and not registry_was_empty:  # known persons of another contract's list
                cur.execute(
                    f"""UPDATE {P} SET name = s.c_name, psn_no = COALESCE(s.c_psn_no, {P}.psn_no)
                        FROM {stage} s
                        WHERE {P}.certno = s.c_certno AND s.reason IS NULL
                          AND ({P}.name <> s.c_name
                               OR (s.c_psn_no IS NOT NULL AND COALESCE({P}.psn_no, '') <> s.c_psn_no))"""
                )
            if first_load and isinstance(rebuild, IndexRebuild):
                # Every valid row is a new enrollment. The tables are locked, so a block of
                # person ids can be reserved from the sequence: the row on line n gets
                # base + n, and persons and enrollments are written by two plain scans of
                # the stage, without joining 2.2 M rows back by ID number.
                step("matching")
                step("enrollments")
                cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [P])
                seq = cur.fetchone()[0]
                cur.execute(f"SELECT nextval(%s), (SELECT MAX(line_no) FROM {stage})", [seq])
                base, top = cur.fetchone()
                cur.execute("SELECT setval(%s, %s)", [seq, base + top])
                # A person already in the registry (another contract's list) keeps their id;
                # enrollments go first, while the persons table holds only those.
                known, join, new_only = "NULL::bigint", "", ""
                if not registry_was_empty:
                    known, join = "p.id", f" LEFT JOIN {P} p ON p.certno = s.c_certno"
                    new_only = f" AND NOT EXISTS (SELECT 1 FROM {P} p WHERE p.certno = s.c_certno)"
                cur.execute(
                    f"""{INSERT_ENROLLMENTS}
                        SELECT COALESCE({known}, %s + s.line_no), %s, s.area_id, s.category, s.category_detail,
                               s.employment, 'healthy', %s, %s, s.enrolled_from, s.enrolled_to, s.status, %s,
                               s.enrolled_from
                        FROM {stage} s{join} WHERE s.reason IS NULL""",
                    [base, contract_id, False, False, source],
                )
                result.update(added=cur.rowcount, periods=0, changed=0, exited=0, unchanged=0)
                cur.execute(
                    f"""INSERT INTO {P} (id, certno, psn_no, name, sex, birth_date, phone)
                        SELECT %s + s.line_no, c_certno, c_psn_no, c_name, sex, birth_date, '' FROM {stage} s
                        WHERE s.reason IS NULL{new_only}""",
                    [base],
                )
                step("changes")
                if full_list:
                    step("exits")
                return result
            if first_load:
                new_persons = "" if registry_was_empty else (
                    f" AND NOT EXISTS (SELECT 1 FROM {P} p WHERE p.certno = s.c_certno)"
                )
                cur.execute(
                    f"""INSERT INTO {P} (certno, psn_no, name, sex, birth_date, phone)
                        SELECT c_certno, c_psn_no, c_name, sex, birth_date, '' FROM {stage} s
                        WHERE s.reason IS NULL{new_persons}"""
                )
                step("matching")
                step("enrollments")
                cur.execute(
                    f"""{INSERT_ENROLLMENTS}
                        SELECT p.id, %s, s.area_id, s.category, s.category_detail, s.employment,
                               'healthy', %s, %s, s.enrolled_from, s.enrolled_to, s.status, %s, s.enrolled_from
                        FROM {stage} s JOIN {P} p ON p.certno = s.c_certno
                        WHERE s.reason IS NULL""",
                    [contract_id, False, False, source],
                )
                result.update(added=cur.rowcount, periods=0, changed=0, exited=0, unchanged=0)
                step("changes")
                if full_list:
                    step("exits")
                return result

            # One join of the list with the registry: the person and the contract's enrollment
            # of every row. Person updates and additions are then taken from it; only the
            # persons new to the registry are looked up again.
            step("matching")
            cur.execute(f"DROP TABLE IF EXISTS {m}")
            cur.execute(
                f"""CREATE {_unlogged()}TABLE {m} AS
                    SELECT s.reason, s.c_certno, s.c_psn_no, s.c_name, s.sex, s.birth_date,
                           p.id AS person_id, p.name AS p_name, p.psn_no AS p_psn_no, e.id AS enrollment_id,
                           s.area_id, s.category, s.category_detail, s.employment, s.status,
                           s.enrolled_from, s.enrolled_to,
                           e.area_id AS e_area_id, e.category AS e_category, e.category_detail AS e_category_detail,
                           e.employment AS e_employment, e.status AS e_status, e.enrolled_from AS e_enrolled_from,
                           e.enrolled_to AS e_enrolled_to, COALESCE(e.attributes_from, e.enrolled_from) AS e_attributes_from
                    FROM {stage} s
                    LEFT JOIN {P} p ON p.certno = s.c_certno
                    LEFT JOIN {E} e ON e.person_id = p.id AND e.contract_id = %s AND e.status <> 'cancelled'
                    WHERE s.reason IS NULL OR p.id IS NOT NULL""",
                [contract_id],
            )
            cur.execute(
                f"""UPDATE {P} SET name = d.c_name, psn_no = COALESCE(d.c_psn_no, {P}.psn_no)
                    FROM (SELECT person_id, c_name, c_psn_no FROM {m}
                          WHERE reason IS NULL AND person_id IS NOT NULL
                            AND (p_name <> c_name OR (c_psn_no IS NOT NULL AND COALESCE(p_psn_no, '') <> c_psn_no))) d
                    WHERE {P}.id = d.person_id"""
            )
            cur.execute(
                f"""INSERT INTO {P} (certno, psn_no, name, sex, birth_date, phone)
                    SELECT c_certno, c_psn_no, c_name, sex, birth_date, '' FROM {m}
                    WHERE reason IS NULL AND person_id IS NULL"""
            )
            if cur.rowcount:
                cur.execute(
                    f"""UPDATE {m} SET person_id = p.id FROM {P} p
                        WHERE {m}.person_id IS NULL AND {m}.reason IS NULL AND p.certno = {m}.c_certno"""
                )
            attr_changed = (
                "(area_id <> e_area_id OR category <> e_category OR category_detail <> e_category_detail"
                " OR employment <> e_employment"
                " OR (status <> 'terminated' AND e_status <> 'terminated' AND status <> e_status))"
            )
            end_changed = (
                "(COALESCE(enrolled_to, '9999-12-31') <> COALESCE(e_enrolled_to, '9999-12-31')"
                " OR (status = 'terminated') <> (e_status = 'terminated'))"
            )
            if is_postgres():
                cur.execute(f"ANALYZE {m}")  # without statistics the planner nests loops over it
            else:
                cur.execute(f"CREATE INDEX {m}_enrollment ON {m} (enrollment_id)")
                cur.execute(f"CREATE INDEX {m}_person ON {m} (person_id)")

            step("enrollments")
            cur.execute(
                f"""{INSERT_ENROLLMENTS}
                    SELECT person_id, %s, area_id, category, category_detail, employment,
                           'healthy', %s, %s, enrolled_from, enrolled_to, status, %s, enrolled_from
                    FROM {m} WHERE reason IS NULL AND enrollment_id IS NULL""",
                [contract_id, False, False, source],
            )
            result["added"] = cur.rowcount

            step("changes")
            cur.execute(
                f"""INSERT INTO {H} (enrollment_id, area_id, category, category_detail, employment, status,
                                     valid_from, valid_to, batch_id)
                    SELECT enrollment_id, e_area_id, e_category, e_category_detail, e_employment,
                           CASE WHEN e_status = 'suspended' THEN 'suspended' ELSE 'active' END,
                           e_attributes_from, %s, %s
                    FROM {m}
                    WHERE reason IS NULL AND enrollment_id IS NOT NULL AND {attr_changed}
                      AND e_attributes_from <= %s""",
                [eff_1, batch_id, eff_1],
            )
            result["periods"] = cur.rowcount
            cur.execute(
                f"""UPDATE {E} SET area_id = m.area_id, category = m.category, category_detail = m.category_detail,
                           employment = m.employment, status = m.status, enrolled_to = m.enrolled_to,
                           attributes_from = CASE
                               WHEN {_qualify(attr_changed)}
                                    AND m.e_attributes_from < %s THEN %s
                               ELSE {E}.attributes_from END
                    FROM {m} m
                    WHERE {E}.id = m.enrollment_id AND m.reason IS NULL
                      AND ({_qualify(attr_changed)} OR {_qualify(end_changed)})""",
                [eff, eff],
            )
            result["changed"] = cur.rowcount

            result["exited"] = 0
            if full_list:
                step("exits")
                cur.execute(f"SELECT DISTINCT area_id FROM {stage} WHERE reason IS NULL")
                areas = {r[0] for r in cur.fetchall()}
                if scope is not None:
                    areas &= set(scope)
                if areas:
                    marks = ", ".join(["%s"] * len(areas))
                    cur.execute(
                        f"""UPDATE {E} SET status = 'terminated',
                                   enrolled_to = CASE WHEN enrolled_from > %s THEN enrolled_from ELSE %s END
                            WHERE contract_id = %s AND source = %s AND status IN ('active', 'suspended')
                              AND area_id IN ({marks})
                              AND NOT EXISTS (SELECT 1 FROM {m} WHERE {m}.person_id = {E}.person_id)""",
                        [eff_1, eff_1, contract_id, source, *sorted(areas)],
                    )
                    result["exited"] = cur.rowcount

            if superseded:
                marks = ", ".join(["%s"] * len(superseded))
                cur.execute(
                    f"""UPDATE {E} SET superseded_by_id = (
                            SELECT g.id FROM {E} g WHERE g.person_id = {E}.person_id
                              AND g.contract_id = {E}.contract_id AND g.status <> 'cancelled')
                        WHERE id IN ({marks})""",
                    list(superseded),
                )
            cur.execute(f"SELECT COUNT(*) FROM {m} WHERE reason IS NULL")
            valid = cur.fetchone()[0]
            result["unchanged"] = valid - result["added"] - result["changed"]
            cur.execute(f"DROP TABLE {m}")
    return result


def _qualify(expr: str) -> str:
    """Prefix the map table's columns with `m.` inside an UPDATE … FROM."""
    names = [
        "e_area_id", "e_category_detail", "e_category", "e_employment", "e_status", "e_enrolled_to",
        "area_id", "category_detail", "category", "employment", "status", "enrolled_to",
    ]
    pattern = re.compile(r"(?<![\w.])(" + "|".join(names) + r")(?!\w)")
    return pattern.sub(r"m.\1", expr)

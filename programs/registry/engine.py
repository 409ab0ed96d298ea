"""Staging, set-based checks and the one-transaction application of an enrollment list.

Tables per batch (dropped when the batch is done): `registry_stage_<id>` holds the valid rows'
checked values, `registry_rejected_<id>` the rejected rows' raw values and reasons (the report),
and `registry_map_<id>` joins the rows to existing persons and enrollments while applying.
The SQL below runs on SQLite and PostgreSQL alike; PostgreSQL adds the bulk first load
(`IndexRebuild`, reserved id blocks). Blocks checked by `columnar` (CSV column by column, XLSX
row by row) are staged by COPY on PostgreSQL and executemany elsewhere.
"""

import contextlib
import datetime as dt
import io
import re
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from insurance_admin.core.imports import rejected as rejected_file

from .files import FIELDS
from .rows import CHECKED, REJECTED_COLUMNS, VALID_COLUMNS

Progress = Callable[..., None]

P = "programs_insuredperson"
E = "programs_enrollment"
H = "programs_enrollmentperiod"


ENROLLMENT_COLUMNS = (
    "person_id, contract_id, area_id, category, category_detail, employment, health, continuous_no_claim_3y,"
    " student, enrolled_from, enrolled_to, status, source, attributes_from"
)
INSERT_ENROLLMENTS = f"INSERT INTO {E} ({ENROLLMENT_COLUMNS})"


def stage_table(batch_id: int) -> str:
    """The valid rows of a batch: line number and checked values."""
    return f"registry_stage_{int(batch_id)}"


def rejected_table(batch_id: int) -> str:
    """The rejected rows of a batch: line number, raw values, reason (and checked values and
    duplicate kind for the rows rejected as duplicates)."""
    return f"registry_rejected_{int(batch_id)}"


def map_table(batch_id: int) -> str:
    return f"registry_map_{int(batch_id)}"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _unlogged() -> str:
    # Staging data is reproducible from the file: no WAL for it on PostgreSQL.
    return "UNLOGGED " if is_postgres() else ""


def drop_tables(batch_id: int) -> None:
    with connection.cursor() as cur:
        for table in (map_table(batch_id), rejected_table(batch_id), stage_table(batch_id)):
            cur.execute(f"DROP TABLE IF EXISTS {table}")


def staged_batch_ids() -> set[int]:
    """Batch ids that have a stage or map table in the database."""
    found = set()
    for name in connection.introspection.table_names():
        for prefix in ("registry_stage_", "registry_rejected_", "registry_map_"):
            if name.startswith(prefix) and name[len(prefix):].isdigit():
                found.add(int(name[len(prefix):]))
    return found


def stage_exists(batch_id: int) -> bool:
    return stage_table(batch_id) in connection.introspection.table_names()


def _date(value):
    return None if value is None else connection.ops.adapt_datefield_value(value)


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

_TYPES = {"line_no": "bigint", **dict.fromkeys(FIELDS, "text"), "reason": "text", **dict(CHECKED), "dup": "text"}


def _create_tables(cur, batch_id: int) -> None:
    for table, columns in ((stage_table(batch_id), VALID_COLUMNS), (rejected_table(batch_id), REJECTED_COLUMNS)):
        cur.execute(f"CREATE {_unlogged()}TABLE {table} ({', '.join(f'{c} {_TYPES[c]}' for c in columns)})")


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
            cur.executemany(insert, [tuple(_date(v) if d else v for v, d in zip(r, dates, strict=True)) for r in rows])

    return write


def load(*, batch_id: int, blocks, progress: Progress) -> None:
    """Stage a list's checked blocks (`columnar.csv_blocks` or `columnar.xlsx_blocks`): the
    valid rows into the stage table, the rejected ones into the rejected table."""
    # heavy: columnar loads Arrow and NumPy, only for the bulk path
    from . import columnar

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
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {P} WHERE psn_no IS NOT NULL)")
        if cur.fetchone()[0]:
            # Found by a SELECT (PostgreSQL runs it as a parallel hash join; a DELETE cannot
            # be parallel), deleted by line number: almost always there is none.
            _plans(cur, whole_tables=True)
            cur.execute(
                f"""SELECT s.line_no, s.c_psn_no, s.c_certno FROM {stage} s JOIN {P} p ON p.psn_no = s.c_psn_no
                    WHERE p.certno <> s.c_certno"""
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


# --- applying -------------------------------------------------------------------------------


def bulk_min_rows() -> int:
    """Below this many new rows the registry's indexes are maintained row by row."""
    return settings.REGISTRY_BULK_MIN_ROWS


class IndexRebuild:
    """A bulk load on PostgreSQL: every index and key of the registry tables — primary keys,
    unique constraints, plain indexes — and every foreign key from or to them (the claims and
    SMS tables point at persons and enrollments) are dropped inside the application's
    transaction and re-created from their own definitions (`pg_get_indexdef`,
    `pg_get_constraintdef`) after the rows are in.

    Building a B-tree by sorting 2.2 M keys takes a second or two where inserting them one by
    one takes tens of seconds (and writes one WAL record per key: a primary key alone doubles
    an insert's WAL); re-adding a foreign key checks every row in one join instead of one
    look-up per row at commit. The price: the DDL takes ACCESS EXCLUSIVE locks on the registry
    tables and on the tables that point at them until the commit, so the window's look-ups and
    claim pages wait (they do not fail) while a big first list is applied. Everything is one
    transaction: a crash rolls the DDL back with the rows, the schema is exactly as before
    (tests compare the definitions).

    Dropping a foreign key also locks the table it points at: areas and contracts, which
    nearly every page reads. Where the role may set `session_replication_role` (a superuser,
    or `GRANT SET ON PARAMETER session_replication_role` to the application's role), the keys
    from the registry to such other tables are kept instead, the loaded rows skip their
    per-row checks (`replica`, for the inserts only), and one anti-join per key checks them
    all before the commit — the same check `ADD FOREIGN KEY` makes, without locking the
    referenced table. Without the privilege those keys are dropped and re-added like the
    others, and the rest of the application waits on areas and contracts meanwhile."""

    def __init__(self, cur, tables: tuple[str, ...], step: Progress):
        self.cur, self.tables, self.step = cur, tables, step

    def _may_skip_key_checks(self) -> bool:
        self.cur.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
        return self.cur.fetchone()[0]

    def definitions(self) -> dict[str, list[tuple]]:
        """The tables' keys and indexes, each kind in the order it is re-created:
        `primary` and `unique` (table, name, definition), `indexes` (name, definition),
        `foreign` (table, name, definition) — those of the tables and those pointing at them."""
        cur = self.cur
        cur.execute(
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype,
                      confrelid::regclass::text
               FROM pg_constraint
               WHERE (conrelid = ANY(%s::regclass[]) AND contype IN ('p', 'u', 'f'))
                  OR (confrelid = ANY(%s::regclass[]) AND contype = 'f')
               ORDER BY conrelid::regclass::text, conname""",
            [list(self.tables)] * 2,
        )
        rows = cur.fetchall()
        kinds = {"primary": "p", "unique": "u", "foreign": "f"}
        found = {kind: [(t, n, d) for t, n, d, k, _ in rows if k == code] for kind, code in kinds.items()}
        self.referenced = {n: r for _, n, _, k, r in rows if k == "f"}
        cur.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
               WHERE i.indrelid = ANY(%s::regclass[])
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                                 AND c.conrelid = i.indrelid)
               ORDER BY 1""",
            [list(self.tables)],
        )
        found["indexes"] = cur.fetchall()
        return found

    def __enter__(self):
        cur = self.cur
        self.found = self.definitions()
        pointing = sorted({t for t, _, _ in self.found["foreign"]} - set(self.tables))
        cur.execute(f"LOCK TABLE {', '.join((*self.tables, *pointing))} IN ACCESS EXCLUSIVE MODE")
        self.found = self.definitions()  # as of the lock
        outward = [fk for fk in self.found["foreign"]
                   if fk[0] in self.tables and self.referenced[fk[1]] not in self.tables]
        self.kept = outward if outward and self._may_skip_key_checks() else []
        if self.kept:
            cur.execute(
                """SELECT c.conname,
                          ARRAY(SELECT attname FROM pg_attribute a, unnest(c.conkey) WITH ORDINALITY k(n, i)
                                WHERE a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
                          ARRAY(SELECT attname FROM pg_attribute a, unnest(c.confkey) WITH ORDINALITY k(n, i)
                                WHERE a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
                   FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])""",
                [list(self.tables)],
            )
            self.key_columns = {n: (cols, fcols) for n, cols, fcols in cur.fetchall()}
        self.rebuilt = [fk for fk in self.found["foreign"] if fk not in self.kept]
        for table, name, _ in self.rebuilt + self.found["unique"] + self.found["primary"]:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in self.found["indexes"]:
            cur.execute(f"DROP INDEX {name}")
        if self.kept:
            cur.execute("SET LOCAL session_replication_role = replica")  # until the rows are in
        return self

    def _check_kept(self, table: str, name: str) -> None:
        """Every loaded row's key has its row in the other table (one anti-join), or the
        transaction stops with the constraint's name, as ADD FOREIGN KEY would."""
        cols, fcols = self.key_columns[name]
        match = " AND ".join(f"r.{f} = t.{c}" for c, f in zip(cols, fcols, strict=True))
        present = " AND ".join(f"t.{c} IS NOT NULL" for c in cols)
        self.cur.execute(
            f"SELECT {', '.join(f't.{c}' for c in cols)} FROM {table} t WHERE {present}"
            f" AND NOT EXISTS (SELECT 1 FROM {self.referenced[name]} r WHERE {match}) LIMIT 1"
        )
        missing = self.cur.fetchone()
        if missing is not None:
            raise IntegrityError(
                f'insert or update on table "{table}" violates foreign key constraint "{name}": '
                f"({', '.join(cols)})=({', '.join(map(str, missing))}) is not present in table "
                f'"{self.referenced[name]}"'
            )

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False  # the transaction rolls the DDL back
        self.step("indexes")
        cur = self.cur
        if self.kept:
            cur.execute("SET LOCAL session_replication_role = DEFAULT")
        keys = self.found["primary"] + self.found["unique"]
        total = len(keys) + len(self.found["indexes"]) + len(self.found["foreign"])
        done = 0

        def told():
            nonlocal done
            self.step("indexes", done=done, total=total)
            done += 1

        # Sorts for the index builds in memory (PostgreSQL builds B-trees in parallel workers).
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for table, name, definition in keys:
            told()
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _, definition in self.found["indexes"]:
            told()
            cur.execute(definition)
        # Each key is checked by one anti-join of the referencing rows with the referenced
        # key, run serially inside ALTER TABLE. Between the two loaded tables (enrollment ->
        # person) a merge along the two B-trees just built takes half the time of hashing
        # 2.2 M keys (1.2 against 1.9 s in the import); a small table (areas, contracts) is
        # best hashed, and a few claims rows find their person by key (nested loops).
        cur.execute("SHOW enable_nestloop")
        nestloop = cur.fetchone()[0]
        for table, name, _definition in self.kept:
            told()
            self._check_kept(table, name)
        for table, name, definition in self.rebuilt:
            told()
            between_loaded = table in self.tables and self.referenced[name] in self.tables
            cur.execute(f"SET LOCAL enable_hashjoin = {'off' if between_loaded else 'on'}")
            cur.execute(f"SET LOCAL enable_nestloop = {'off' if between_loaded else 'on'}")
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cur.execute("SET LOCAL enable_hashjoin = DEFAULT")
        cur.execute(f"SET LOCAL enable_nestloop = {nestloop}")
        return False


def _reserve_ids(cur, table: str, count: int) -> int:
    """Reserve `count` ids of the table's sequence (the table is locked): base + 1 … base + count."""
    cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    seq = cur.fetchone()[0]
    cur.execute("SELECT nextval(%s)", [seq])
    base = cur.fetchone()[0] - 1
    cur.execute("SELECT setval(%s, %s)", [seq, base + count])
    return base


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
                WHERE e.contract_id = %s
                  AND e.source = 'individual' AND e.status <> 'cancelled'
                ORDER BY e.id""",
            [contract_id],
        )
        return [r[0] for r in cur.fetchall()]


def returns_after_gap(old_status: str, new_status: str, old_end: dt.date | None, effective_date: dt.date) -> bool:
    """An exited enrollment on a later list again, with at least one day between the exit and
    the list's effective date (the days between were not covered)."""
    return (old_status == "terminated" and new_status != "terminated" and old_end is not None
            and old_end < effective_date - dt.timedelta(days=1))


def gap_periods(since: dt.date, exit_end: dt.date, effective_date: dt.date) -> list[dict]:
    """The periods a return after a gap leaves behind: the old attributes while covered (from
    `since` to the exit), then the gap as `exited` (to the day before the return)."""
    periods = []
    if since <= exit_end:
        periods.append({"status": "active", "valid_from": since, "valid_to": exit_end})
    periods.append({"status": "exited", "valid_from": exit_end + dt.timedelta(days=1),
                    "valid_to": effective_date - dt.timedelta(days=1)})
    return periods


def _as_date(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


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
            _plans(cur, whole_tables=True)
            cur.execute("SET LOCAL work_mem = '512MB'")  # 2.2 M-row hash joins in memory, not in batches
            # The import is one transaction: a crash before the commit record is flushed loses
            # nothing but the import itself (the batch can be restarted), never consistency.
            cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {E} WHERE contract_id = %s AND status <> 'cancelled')", [contract_id])
        contract_was_empty = not cur.fetchone()[0]
        first_load = contract_was_empty and not superseded  # nothing to match, change or end
        rebuild = contextlib.nullcontext()
        if first_load:
            cur.execute(f"SELECT COUNT(*) FROM {stage}")
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
                        WHERE {P}.certno = s.c_certno
                          AND ({P}.name <> s.c_name
                               OR (s.c_psn_no IS NOT NULL AND COALESCE({P}.psn_no, '') <> s.c_psn_no))"""
                )
            if first_load and isinstance(rebuild, IndexRebuild):
                # Every valid row is a new enrollment. The tables are locked, so blocks of
                # person and enrollment ids can be reserved from the sequences: the row on
                # line n gets base + n of each, and persons and enrollments are written by two
                # plain scans of the stage, without joining 2.2 M rows back by ID number and
                # without a sequence call per row.
                step("matching")
                step("enrollments")
                cur.execute(f"SELECT MAX(line_no) FROM {stage}")
                top = cur.fetchone()[0]
                base, e_base = _reserve_ids(cur, P, top), _reserve_ids(cur, E, top)
                # A person already in the registry (another contract's list) keeps their id;
                # enrollments go first, while the persons table holds only those.
                known, join, new_only = "NULL::bigint", "", ""
                if not registry_was_empty:
                    known, join = "p.id", f" LEFT JOIN {P} p ON p.certno = s.c_certno"
                    new_only = f" WHERE NOT EXISTS (SELECT 1 FROM {P} p WHERE p.certno = s.c_certno)"
                cur.execute(
                    f"""INSERT INTO {E} (id, {ENROLLMENT_COLUMNS})
                        SELECT %s + s.line_no, COALESCE({known}, %s + s.line_no), %s, s.area_id, s.category,
                               s.category_detail, s.employment, 'healthy', %s, %s, s.enrolled_from, s.enrolled_to,
                               s.status, %s, s.enrolled_from
                        FROM {stage} s{join}""",
                    [e_base, base, contract_id, False, False, source],
                )
                result.update(added=cur.rowcount, periods=0, changed=0, exited=0, unchanged=0)
                cur.execute(
                    f"""INSERT INTO {P} (id, certno, psn_no, name, sex, birth_date, phone)
                        SELECT %s + s.line_no, c_certno, c_psn_no, c_name, sex, birth_date, '' FROM {stage} s
                        {new_only}""",
                    [base],
                )
                step("changes")
                if full_list:
                    step("exits")
                return result
            if first_load:
                new_persons = "" if registry_was_empty else (
                    f" WHERE NOT EXISTS (SELECT 1 FROM {P} p WHERE p.certno = s.c_certno)"
                )
                cur.execute(
                    f"""INSERT INTO {P} (certno, psn_no, name, sex, birth_date, phone)
                        SELECT c_certno, c_psn_no, c_name, sex, birth_date, '' FROM {stage} s
                        {new_persons}"""
                )
                step("matching")
                step("enrollments")
                cur.execute(
                    f"""{INSERT_ENROLLMENTS}
                        SELECT p.id, %s, s.area_id, s.category, s.category_detail, s.employment,
                               'healthy', %s, %s, s.enrolled_from, s.enrolled_to, s.status, %s, s.enrolled_from
                        FROM {stage} s JOIN {P} p ON p.certno = s.c_certno""",
                    [contract_id, False, False, source],
                )
                result.update(added=cur.rowcount, periods=0, changed=0, exited=0, unchanged=0)
                step("changes")
                if full_list:
                    step("exits")
                return result

            # One join of the list with the registry: the person and the contract's enrollment
            # of every row, keeping only the rows with something to do (a new person or
            # enrollment, another name or psn_no, changed attributes or end) — a later list
            # changes a few per cent of its rows, so the map stays small and PostgreSQL runs
            # the join in parallel workers (a CREATE TABLE AS may be parallel; an UPDATE, an
            # INSERT … SELECT or a DELETE may not). Exits are found the same way, by a
            # parallel anti-join, and then ended by primary key.
            step("matching")
            attr_changed = (
                "(area_id <> e_area_id OR category <> e_category OR category_detail <> e_category_detail"
                " OR employment <> e_employment"
                " OR (status <> 'terminated' AND e_status <> 'terminated' AND status <> e_status))"
            )
            end_changed = (
                "(COALESCE(enrolled_to, '9999-12-31') <> COALESCE(e_enrolled_to, '9999-12-31')"
                " OR (status = 'terminated') <> (e_status = 'terminated'))"
            )
            joined = {
                "area_id": "s.area_id", "category": "s.category", "category_detail": "s.category_detail",
                "employment": "s.employment", "status": "s.status", "enrolled_to": "s.enrolled_to",
                "e_area_id": "e.area_id", "e_category": "e.category", "e_category_detail": "e.category_detail",
                "e_employment": "e.employment", "e_status": "e.status", "e_enrolled_to": "e.enrolled_to",
            }
            cur.execute(f"DROP TABLE IF EXISTS {m}")
            cur.execute(
                f"""CREATE {_unlogged()}TABLE {m} AS
                    SELECT s.c_certno, s.c_psn_no, s.c_name, s.sex, s.birth_date,
                           p.id AS person_id, p.name AS p_name, p.psn_no AS p_psn_no, e.id AS enrollment_id,
                           s.area_id, s.category, s.category_detail, s.employment, s.status,
                           s.enrolled_from, s.enrolled_to,
                           e.area_id AS e_area_id, e.category AS e_category, e.category_detail AS e_category_detail,
                           e.employment AS e_employment, e.status AS e_status, e.enrolled_from AS e_enrolled_from,
                           e.enrolled_to AS e_enrolled_to, COALESCE(e.attributes_from, e.enrolled_from) AS e_attributes_from
                    FROM {stage} s
                    LEFT JOIN {P} p ON p.certno = s.c_certno
                    LEFT JOIN {E} e ON e.person_id = p.id AND e.contract_id = %s AND e.status <> 'cancelled'
                    WHERE p.id IS NULL OR e.id IS NULL OR p.name <> s.c_name
                       OR (s.c_psn_no IS NOT NULL AND COALESCE(p.psn_no, '') <> s.c_psn_no)
                       OR {_qualify(attr_changed, joined)} OR {_qualify(end_changed, joined)}
                """,
                [contract_id],
            )
            if is_postgres():
                cur.execute(f"ANALYZE {m}")
                _plans(cur, whole_tables=False)  # the map is small and analysed
            else:
                cur.execute(f"CREATE INDEX {m}_enrollment ON {m} (enrollment_id)")
                cur.execute(f"CREATE INDEX {m}_person ON {m} (person_id)")
            cur.execute(
                f"""UPDATE {P} SET name = d.c_name, psn_no = COALESCE(d.c_psn_no, {P}.psn_no)
                    FROM (SELECT person_id, c_name, c_psn_no FROM {m}
                          WHERE person_id IS NOT NULL
                            AND (p_name <> c_name OR (c_psn_no IS NOT NULL AND COALESCE(p_psn_no, '') <> c_psn_no))) d
                    WHERE {P}.id = d.person_id"""
            )
            cur.execute(
                f"""INSERT INTO {P} (certno, psn_no, name, sex, birth_date, phone)
                    SELECT c_certno, c_psn_no, c_name, sex, birth_date, '' FROM {m}
                    WHERE person_id IS NULL"""
            )
            if cur.rowcount:
                cur.execute(
                    f"""UPDATE {m} SET person_id = p.id FROM {P} p
                        WHERE {m}.person_id IS NULL AND p.certno = {m}.c_certno"""
                )

            step("enrollments")
            cur.execute(
                f"""{INSERT_ENROLLMENTS}
                    SELECT person_id, %s, area_id, category, category_detail, employment,
                           'healthy', %s, %s, enrolled_from, enrolled_to, status, %s, enrolled_from
                    FROM {m} WHERE enrollment_id IS NULL""",
                [contract_id, False, False, source],
            )
            result["added"] = cur.rowcount

            step("changes")
            # Back on the list after an exit with days between: the gap is kept (`gap_periods`).
            returned = ("(e_status = 'terminated' AND status <> 'terminated'"
                        " AND COALESCE(e_enrolled_to, '9999-12-31') < %s)")
            cur.execute(
                f"""INSERT INTO {H} (enrollment_id, area_id, category, category_detail, employment, status,
                                     valid_from, valid_to, batch_id)
                    SELECT enrollment_id, e_area_id, e_category, e_category_detail, e_employment,
                           CASE WHEN e_status = 'suspended' THEN 'suspended' ELSE 'active' END,
                           e_attributes_from, %s, %s
                    FROM {m}
                    WHERE enrollment_id IS NOT NULL AND {attr_changed} AND NOT {returned}
                      AND e_attributes_from <= %s""",
                [eff_1, batch_id, eff_1, eff_1],
            )
            result["periods"] = cur.rowcount
            cur.execute(
                f"""SELECT enrollment_id, e_area_id, e_category, e_category_detail, e_employment,
                           e_attributes_from, e_enrolled_to
                    FROM {m} WHERE enrollment_id IS NOT NULL AND {returned}""",
                [eff_1],
            )
            gaps = [
                (enrollment, area, category, detail, employment, p["status"], _date(p["valid_from"]),
                 _date(p["valid_to"]), batch_id)
                for enrollment, area, category, detail, employment, since, end in cur.fetchall()
                for p in gap_periods(_as_date(since), _as_date(end), effective_date)
            ]
            if gaps:
                cur.executemany(
                    f"""INSERT INTO {H} (enrollment_id, area_id, category, category_detail, employment, status,
                                         valid_from, valid_to, batch_id) VALUES ({', '.join(['%s'] * 9)})""",
                    gaps,
                )
                result["periods"] += len(gaps)
            cur.execute(
                f"""UPDATE {E} SET area_id = m.area_id, category = m.category, category_detail = m.category_detail,
                           employment = m.employment, status = m.status, enrolled_to = m.enrolled_to,
                           attributes_from = CASE
                               WHEN {_qualify(returned)} THEN %s
                               WHEN {_qualify(attr_changed)}
                                    AND m.e_attributes_from < %s THEN %s
                               ELSE {E}.attributes_from END
                    FROM {m} m
                    WHERE {E}.id = m.enrollment_id
                      AND ({_qualify(attr_changed)} OR {_qualify(end_changed)})""",
                [eff_1, eff, eff, eff],
            )
            result["changed"] = cur.rowcount

            result["exited"] = 0
            if full_list:
                step("exits")
                cur.execute(f"SELECT DISTINCT area_id FROM {stage}")
                areas = {r[0] for r in cur.fetchall()}
                if scope is not None:
                    areas &= set(scope)
                if areas:
                    # In force in the list's areas, and the person nowhere on the list (a
                    # rejected row still names them: not an exit).
                    x = f"{m}_exits"
                    marks = ", ".join(["%s"] * len(areas))
                    cur.execute(f"DROP TABLE IF EXISTS {x}")
                    _plans(cur, whole_tables=True)
                    cur.execute(
                        f"""CREATE {_unlogged()}TABLE {x} AS
                            SELECT e.id FROM {E} e JOIN {P} p ON p.id = e.person_id
                            WHERE e.contract_id = %s AND e.source = %s AND e.status IN ('active', 'suspended')
                              AND e.area_id IN ({marks})
                              AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.c_certno = p.certno)
                              AND NOT EXISTS (SELECT 1 FROM {rejected_table(batch_id)} r WHERE r.c_certno = p.certno)""",
                        [contract_id, source, *sorted(areas)],
                    )
                    if is_postgres():
                        cur.execute(f"ANALYZE {x}")
                    _plans(cur, whole_tables=False)
                    cur.execute(
                        f"""UPDATE {E} SET status = 'terminated',
                                   enrolled_to = CASE WHEN enrolled_from > %s THEN enrolled_from ELSE %s END
                            WHERE id IN (SELECT id FROM {x})""",
                        [eff_1, eff_1],
                    )
                    result["exited"] = cur.rowcount
                    cur.execute(f"DROP TABLE {x}")

            if superseded:
                marks = ", ".join(["%s"] * len(superseded))
                cur.execute(
                    f"""UPDATE {E} SET superseded_by_id = (
                            SELECT g.id FROM {E} g WHERE g.person_id = {E}.person_id
                              AND g.contract_id = {E}.contract_id AND g.status <> 'cancelled')
                        WHERE id IN ({marks})""",
                    list(superseded),
                )
            cur.execute(f"SELECT COUNT(*) FROM {stage}")
            valid = cur.fetchone()[0]
            result["unchanged"] = valid - result["added"] - result["changed"]
            cur.execute(f"DROP TABLE {m}")
    return result


_MAP_NAMES = (
    "e_area_id", "e_category_detail", "e_category", "e_employment", "e_status", "e_enrolled_to",
    "area_id", "category_detail", "category", "employment", "status", "enrolled_to",
)
_MAP_PATTERN = re.compile(r"(?<![\w.])(" + "|".join(_MAP_NAMES) + r")(?!\w)")


def _plans(cur, *, whole_tables: bool) -> None:
    """Planner settings for the rest of the transaction (PostgreSQL).

    Whole tables joined: no nested loops (statistics of tables filled in this transaction can
    be stale), and parallel workers even where the planner cannot know that a filter keeps
    few rows (it prices moving ~all 2.2 M rows to the leader, and stays serial otherwise).
    A few rows of a small analysed table finding theirs: nested loops over the primary key,
    priced for SSDs (random_page_cost 1.1; with the default 4 the planner hashes 2.2 M rows
    to update 20,000)."""
    if not is_postgres():
        return
    if whole_tables:
        cur.execute("SET LOCAL enable_nestloop = off")
        cur.execute("SET LOCAL parallel_tuple_cost = 0.001")
        cur.execute("SET LOCAL random_page_cost = DEFAULT")
    else:
        cur.execute("SET LOCAL enable_nestloop = on")
        cur.execute("SET LOCAL parallel_tuple_cost = DEFAULT")
        cur.execute("SET LOCAL random_page_cost = 1.1")


def _qualify(expr: str, columns: dict[str, str] | None = None) -> str:
    """The map table's columns in `expr` as `m.<column>` (inside an UPDATE … FROM), or as the
    expressions in `columns` (while the map is being built)."""
    if columns is None:
        return _MAP_PATTERN.sub(r"m.\1", expr)
    return _MAP_PATTERN.sub(lambda match: columns[match.group(1)], expr)

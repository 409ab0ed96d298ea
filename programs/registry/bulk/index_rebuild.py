"""Step 3 of a big first load (PostgreSQL): the registry's indexes and keys dropped before the
rows go in and re-built after, and blocks of ids reserved from the sequences."""

from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError

from .tables import E, P, is_postgres

Progress = Callable[..., None]


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


def reserve_ids(cur, table: str, column: str, count: int) -> int:
    """Reserve `count` ids of the sequence of the table's key `column` (the table is locked):
    base + 1 … base + count."""
    cur.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
    seq = cur.fetchone()[0]
    cur.execute("SELECT nextval(%s)", [seq])
    base = cur.fetchone()[0] - 1
    cur.execute("SELECT setval(%s, %s)", [seq, base + count])
    return base


def bulk_worthwhile(cur, new_rows: int) -> bool:
    """Re-building beats maintaining when the load is big and at least doubles the tables."""
    if not is_postgres() or new_rows < bulk_min_rows():
        return False
    cur.execute(f"SELECT (SELECT COUNT(*) FROM {P}), (SELECT COUNT(*) FROM {E})")
    return new_rows >= max(cur.fetchone())

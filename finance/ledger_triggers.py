"""Database triggers that make the ledger append-only (UPDATE, DELETE and TRUNCATE refused).

Vendor-specific SQL, applied by migrations 0002 (UPDATE, DELETE) and 0005 (TRUNCATE, and every
trigger `ENABLE ALWAYS` on PostgreSQL, so `session_replication_role = replica` does not skip
them), checked by `finance_check`. SQLite has no TRUNCATE: a `DELETE FROM` the whole table runs
the row trigger (SQLite's truncate optimisation is off for a table with triggers).

Triggers only hold against a role that cannot drop or disable them: on PostgreSQL the
application's role must not own the ledger table nor be a superuser (`manage.py db_roles_sql`).
Test flushes lift the TRUNCATE guard inside their own transaction (`truncate_guard_lifted`).
"""

from contextlib import contextmanager

TABLE = "finance_ledgerentry"
LEDGER_TABLES = (TABLE,)
MESSAGE = "finance ledger entries are append-only: book a reversing entry instead"
TRIGGER_NAMES = ("finance_ledger_no_update", "finance_ledger_no_delete")
TRUNCATE_TRIGGER = "finance_ledger_no_truncate"
POSTGRESQL_TRIGGER_NAMES = (*TRIGGER_NAMES, TRUNCATE_TRIGGER)

SQLITE_CREATE = [
    f"CREATE TRIGGER IF NOT EXISTS finance_ledger_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER IF NOT EXISTS finance_ledger_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name};" for name in TRIGGER_NAMES]

POSTGRESQL_CREATE = [
    f"""CREATE OR REPLACE FUNCTION finance_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;""",
    f"DROP TRIGGER IF EXISTS finance_ledger_no_update ON {TABLE};",
    f"CREATE TRIGGER finance_ledger_no_update BEFORE UPDATE ON {TABLE} FOR EACH ROW EXECUTE FUNCTION finance_ledger_refuse_change();",
    f"DROP TRIGGER IF EXISTS finance_ledger_no_delete ON {TABLE};",
    f"CREATE TRIGGER finance_ledger_no_delete BEFORE DELETE ON {TABLE} FOR EACH ROW EXECUTE FUNCTION finance_ledger_refuse_change();",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS finance_ledger_no_update ON {TABLE};",
    f"DROP TRIGGER IF EXISTS finance_ledger_no_delete ON {TABLE};",
    "DROP FUNCTION IF EXISTS finance_ledger_refuse_change();",
]


# Migration 0005: TRUNCATE refused too, and all three fire whatever session_replication_role says.
POSTGRESQL_TRUNCATE_CREATE = [
    f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON {TABLE};",
    f"CREATE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION finance_ledger_refuse_change();",
    *(f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER {name};" for name in POSTGRESQL_TRIGGER_NAMES),
]
POSTGRESQL_TRUNCATE_DROP = [
    *(f"ALTER TABLE {TABLE} ENABLE TRIGGER {name};" for name in TRIGGER_NAMES),
    f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON {TABLE};",
]


def expected_triggers(vendor: str) -> tuple[str, ...]:
    return POSTGRESQL_TRIGGER_NAMES if vendor == "postgresql" else TRIGGER_NAMES


def create_statements(vendor: str) -> list[str]:
    return {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}.get(vendor, [])


def drop_statements(vendor: str) -> list[str]:
    return {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(vendor, [])


def installed_triggers(connection) -> set[str]:
    return set(trigger_states(connection))


def trigger_states(connection) -> dict[str, str]:
    """Name -> state of the ledger's triggers. PostgreSQL's `pg_trigger.tgenabled`: 'A' fires
    always, 'O' only when session_replication_role is origin/local, 'R' only in replica mode,
    'D' disabled. SQLite's triggers cannot be disabled: always 'A'."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
            return {row[0]: "A" for row in cursor.fetchall()}
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [TABLE]
            )
            return {name: str(state) for name, state in cursor.fetchall()}
        return {}


TRUNCATE_GUARD_OFF = f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRUNCATE_TRIGGER}"
TRUNCATE_GUARD_ON = f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER {TRUNCATE_TRIGGER}"


@contextmanager
def truncate_guard_lifted(cursor):
    """For a test flush or a bench that empties a throw-away database as the tables' owner: the
    TRUNCATE trigger off inside the caller's transaction (ALTER TABLE is transactional)."""
    cursor.execute(TRUNCATE_GUARD_OFF)
    yield
    cursor.execute(TRUNCATE_GUARD_ON)

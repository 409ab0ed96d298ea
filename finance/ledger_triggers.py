"""Database triggers that make the ledger append-only (UPDATE and DELETE refused).

Vendor-specific SQL, applied by migration 0002 and checked by `finance_check`. PostgreSQL's
TRUNCATE (used by test flushes) does not fire row triggers; nothing in the application
truncates the ledger.
"""

TABLE = "finance_ledgerentry"
MESSAGE = "finance ledger entries are append-only: book a reversing entry instead"
TRIGGER_NAMES = ("finance_ledger_no_update", "finance_ledger_no_delete")

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


def create_statements(vendor: str) -> list[str]:
    return {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}.get(vendor, [])


def drop_statements(vendor: str) -> list[str]:
    return {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(vendor, [])


def installed_triggers(connection) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [TABLE]
            )
        else:
            return set()
        return {row[0] for row in cursor.fetchall()}

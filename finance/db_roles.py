"""The PostgreSQL roles under which the ledger's append-only triggers hold.

Triggers stop only a role that cannot remove them. PostgreSQL lets a table's owner (and any
superuser) DROP or DISABLE its triggers, and a superuser (or a role granted SET on the
parameter) set `session_replication_role = replica`. So production runs with two roles:

- the **owner role** runs `migrate` and owns the tables (the ledger among them) and the trigger
  function;
- the **application role** (gunicorn, Celery worker and beat) is no superuser, has no
  replication or role/database creation privilege and owns no ledger table: SELECT and INSERT
  on the ledger, SELECT/INSERT/UPDATE/DELETE on the other tables, the sequences, and CREATE on
  the schema for the registry import's own staging tables.

One exception, measured in `programs.registry.bulk.IndexRebuild`: a big first enrollment list
drops and re-creates the keys and indexes of the registry tables and of every table with a
foreign key to them, which PostgreSQL allows only to a table's owner. Those tables (never a
ledger table: `role_setup_sql` refuses) are owned by the application role; the owner role is a
member of the application role, so its migrations still alter them.

`manage.py db_roles_sql --owner … --app …` prints the statements; run them as a superuser once
the database exists, and again after every `migrate` that adds tables.
"""

from __future__ import annotations

import re

from .ledger_triggers import LEDGER_TABLES

REGISTRY_TABLES = ("programs_insuredperson", "programs_enrollment")  # IndexRebuild's (P, E)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _ident(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain PostgreSQL identifier: {name!r}")
    return f'"{name}"'


def application_tables(connection) -> list[str]:
    """Every table the application's models (and Django's migration record) live in."""
    names = set(connection.introspection.django_table_names(only_existing=True, include_views=False))
    return sorted(names | {"django_migrations"})


def app_owned_tables(connection) -> list[str]:
    """The registry tables and every table with a foreign key to them (IndexRebuild alters them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = ANY(%s::regclass[])",
            [list(REGISTRY_TABLES)],
        )
        pointing = {row[0] for row in cursor.fetchall()}
    return sorted(set(REGISTRY_TABLES) | pointing)


def role_setup_sql(connection, *, owner: str, app: str) -> dict[str, list[str]]:
    """`{"once": [...], "after_migrate": [...]}` for the database `connection` points at."""
    o, a = _ident(owner), _ident(app)
    database = _ident(connection.settings_dict["NAME"])
    app_owned = app_owned_tables(connection)
    if clash := set(app_owned) & set(LEDGER_TABLES):
        raise ValueError(f"a ledger table would be owned by the application role: {sorted(clash)}")
    tables = [t for t in application_tables(connection) if t not in LEDGER_TABLES]
    once = [
        f"CREATE ROLE {o} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        f"CREATE ROLE {a} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        # the owner's migrations alter the registry tables the application role owns
        f"GRANT {a} TO {o}",
        f"ALTER DATABASE {database} OWNER TO {o}",
        f"REVOKE ALL ON DATABASE {database} FROM PUBLIC",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {a}",
        f"ALTER SCHEMA public OWNER TO {o}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE, CREATE ON SCHEMA public TO {a}",  # the registry import's staging tables
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON TABLES TO {a}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {a}",
    ]
    after = [
        *(f"ALTER TABLE {_ident(t)} OWNER TO {a if t in app_owned else o}" for t in tables),
        *(f"ALTER TABLE {_ident(t)} OWNER TO {o}" for t in LEDGER_TABLES),
        f"ALTER FUNCTION finance_ledger_refuse_change() OWNER TO {o}",
        *(f"GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON TABLE {_ident(t)} TO {a}"
          for t in tables if t not in app_owned),
        *(f"REVOKE ALL ON TABLE {_ident(t)} FROM {a}, PUBLIC" for t in LEDGER_TABLES),
        *(f"GRANT SELECT, INSERT ON TABLE {_ident(t)} TO {a}" for t in LEDGER_TABLES),
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {a}",
        f"REVOKE SET ON PARAMETER session_replication_role FROM {a}",
    ]
    return {"once": once, "after_migrate": after}

"""The ledger cannot be emptied or its triggers switched off: TRUNCATE refused by a trigger,
finance_check failing on a missing or disabled trigger, and the application's PostgreSQL role
(as `manage.py db_roles_sql` sets it up) unable to truncate, disable, drop or replicate past it."""

import datetime as dt
import uuid
from decimal import Decimal

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from finance import services
from finance.db_roles import role_setup_sql
from finance.models import LedgerEntry, PremiumInstallment
from programs.models import Contract
from tests.conftest import require_or_skip
from tests.factories import UserFactory

D = Decimal


def _one_entry(user) -> LedgerEntry:
    contract = Contract.objects.get(code="beijing-chaoyang-2026")
    services.premium_schedule_generate(contract=contract, user=user)
    inst = PremiumInstallment.objects.get(contract=contract)
    return services.installment_record_receipt(
        installment=inst, amount=D("1000.00"), received_on=dt.date(2026, 1, 15), user=user, reference="BANK-G1"
    )


def _postgresql():
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")


@pytest.mark.django_db
def test_deleting_the_whole_ledger_in_one_statement_is_refused(finance_user):
    """SQLite has no TRUNCATE; its `DELETE FROM` without WHERE runs the row trigger."""
    _one_entry(finance_user)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM finance_ledgerentry")
    assert LedgerEntry.objects.count() == 1


@pytest.mark.django_db
def test_finance_check_fails_when_an_append_only_trigger_is_missing(finance_user, capsys):
    _one_entry(finance_user)
    call_command("finance_check")
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER finance_ledger_no_delete"
            + (" ON finance_ledgerentry" if connection.vendor == "postgresql" else "")
        )
    with pytest.raises(CommandError, match="1 problem"):
        call_command("finance_check")
    assert "append-only trigger missing on finance_ledgerentry: finance_ledger_no_delete" in capsys.readouterr().err


@pytest.mark.services
@pytest.mark.django_db
def test_truncate_of_the_ledger_is_refused_even_for_its_owner(finance_user):
    _postgresql()
    _one_entry(finance_user)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction holds deferred key checks
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            # CASCADE: tables that point at ledger entries (an assessment's deduction) would
            # refuse a plain TRUNCATE before the trigger is reached; the trigger refuses even this
            cursor.execute("TRUNCATE finance_ledgerentry CASCADE")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE finance_ledgerentry CASCADE")
    assert LedgerEntry.objects.count() == 1


@pytest.mark.services
@pytest.mark.django_db
def test_replica_mode_does_not_skip_the_ledger_triggers(finance_user):
    _postgresql()
    entry = _one_entry(finance_user)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM finance_ledgerentry WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.count() == 1


@pytest.mark.services
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("alter", "message"),
    [
        ("DISABLE TRIGGER finance_ledger_no_update", "finance_ledger_no_update on finance_ledgerentry is DISABLED (pg_trigger.tgenabled = 'D')"),
        ("DISABLE TRIGGER ALL", "finance_ledger_no_truncate on finance_ledgerentry is DISABLED (pg_trigger.tgenabled = 'D')"),
        ("ENABLE REPLICA TRIGGER finance_ledger_no_delete", "finance_ledger_no_delete on finance_ledgerentry fires only in replica mode"),
        ("ENABLE TRIGGER finance_ledger_no_delete", "finance_ledger_no_delete on finance_ledgerentry is skipped under session_replication_role = replica"),
    ],
)
def test_finance_check_fails_when_a_ledger_trigger_is_disabled(finance_user, capsys, alter, message):
    _postgresql()
    _one_entry(finance_user)
    call_command("finance_check")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction holds deferred key checks
        cursor.execute(f"ALTER TABLE finance_ledgerentry {alter}")
    with pytest.raises(CommandError):
        call_command("finance_check")
    assert message in capsys.readouterr().err


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_application_role_can_insert_but_not_empty_or_unguard_the_ledger(seeded):
    _postgresql()
    entry = _one_entry(UserFactory(username="fin_roles", role="finance"))
    suffix = uuid.uuid4().hex[:10]
    owner, app = f"t_ia_owner_{suffix}", f"t_ia_app_{suffix}"
    password = uuid.uuid4().hex
    settings = connection.settings_dict
    parts = role_setup_sql(connection, owner=owner, app=app)
    try:
        with connection.cursor() as cursor:
            for sql in parts["once"] + parts["after_migrate"]:
                cursor.execute(sql)
            cursor.execute(f'ALTER ROLE "{app}" PASSWORD %s', [password])
        attacks = {
            "TRUNCATE finance_ledgerentry": "permission denied",
            "TRUNCATE finance_ledgerentry CASCADE": "permission denied",
            "DELETE FROM finance_ledgerentry": "permission denied",
            "UPDATE finance_ledgerentry SET amount = 1": "permission denied",
            "ALTER TABLE finance_ledgerentry DISABLE TRIGGER finance_ledger_no_delete": "must be owner",
            "ALTER TABLE finance_ledgerentry DISABLE TRIGGER ALL": "must be owner",
            "DROP TRIGGER finance_ledger_no_delete ON finance_ledgerentry": "must be owner",
            "DROP FUNCTION finance_ledger_refuse_change() CASCADE": "must be owner",
            "SET session_replication_role = replica": "permission denied",
            "ALTER TABLE finance_ledgerentry OWNER TO CURRENT_USER": "must be owner",
            f'GRANT "{owner}" TO "{app}"': "must have admin option",
        }
        with psycopg.connect(
            host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
            dbname=settings["NAME"], user=app, password=password, autocommit=True,
        ) as app_conn:
            refused = {}
            for sql, expected in attacks.items():
                try:
                    app_conn.execute(sql)
                    refused[sql] = "SUCCEEDED"
                except psycopg.Error as exc:
                    refused[sql] = expected if expected in str(exc) else str(exc)
            assert refused == attacks
            row = app_conn.execute(
                """INSERT INTO finance_ledgerentry
                     (contract_id, area_id, book, kind, amount, booked_on, reference, memo,
                      installment_id, created_at, created_by_id)
                   SELECT contract_id, area_id, book, kind, 5.00, booked_on, 'APP-ROLE', 'app role',
                          installment_id, now(), created_by_id
                   FROM finance_ledgerentry WHERE id = %s RETURNING id""",
                [entry.pk],
            ).fetchone()
            assert app_conn.execute("SELECT current_user, usesuper FROM pg_user WHERE usename = current_user").fetchone() == (app, False)
        assert LedgerEntry.objects.filter(pk=row[0], reference="APP-ROLE", amount=D("5.00")).exists()
        assert LedgerEntry.objects.count() == 2
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'REASSIGN OWNED BY "{owner}", "{app}" TO CURRENT_USER')
            cursor.execute(f'DROP OWNED BY "{app}"')
            cursor.execute(f'DROP OWNED BY "{owner}"')
            cursor.execute(f'DROP ROLE IF EXISTS "{app}"')
            cursor.execute(f'DROP ROLE IF EXISTS "{owner}"')

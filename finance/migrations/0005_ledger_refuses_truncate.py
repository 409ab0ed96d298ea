"""TRUNCATE of the ledger refused by a statement trigger, and the ledger's triggers fire
whatever `session_replication_role` says (PostgreSQL; SQLite has no TRUNCATE, and its DELETE
trigger already covers `DELETE FROM` the whole table)."""

from django.db import migrations

from finance.ledger_triggers import POSTGRESQL_TRUNCATE_CREATE, POSTGRESQL_TRUNCATE_DROP


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRESQL_TRUNCATE_CREATE:
            schema_editor.execute(sql)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRESQL_TRUNCATE_DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("finance", "0004_hospital_terms_live_with_batches")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]

from django.db import migrations

from finance.ledger_triggers import create_statements, drop_statements


def create_triggers(apps, schema_editor):
    for sql in create_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    for sql in drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_ledgers_and_funds")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]

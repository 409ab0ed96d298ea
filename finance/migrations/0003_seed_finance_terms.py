from django.db import migrations

from finance.seed import load_finance_terms


def load(apps, schema_editor):
    load_finance_terms(apps)


class Migration(migrations.Migration):
    dependencies = [("finance", "0002_ledger_append_only_triggers"), ("programs", "0002_seed_contracts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

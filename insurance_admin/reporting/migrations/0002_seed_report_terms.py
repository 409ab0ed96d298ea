from django.db import migrations

from insurance_admin.reporting.seed import load_report_terms


def load(apps, schema_editor):
    load_report_terms(apps)


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_report_terms_dues_runs"), ("programs", "0002_seed_contracts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

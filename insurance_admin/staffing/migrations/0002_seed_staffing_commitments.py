from django.db import migrations

from insurance_admin.staffing.seed import load_staffing_commitments


def load(apps, schema_editor):
    load_staffing_commitments(apps)


class Migration(migrations.Migration):
    dependencies = [("staffing", "0001_roster_and_commitments"), ("programs", "0002_seed_contracts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

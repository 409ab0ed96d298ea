from django.db import migrations

from insurance_admin.complaints.seed import load_complaint_terms


def load(apps, schema_editor):
    load_complaint_terms(apps)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_complaints_and_terms"), ("programs", "0002_seed_contracts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

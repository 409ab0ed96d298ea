from django.db import migrations

from insurance_admin.assessments.seed import load_templates


def load(apps, schema_editor):
    load_templates(apps)


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_templates_records_assessments"), ("programs", "0002_seed_contracts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

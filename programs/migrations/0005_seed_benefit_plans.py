from django.db import migrations


def forwards(apps, schema_editor):
    from programs.seed import load_seed_plans

    load_seed_plans(apps)


class Migration(migrations.Migration):
    dependencies = [("programs", "0004_benefit_plan")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

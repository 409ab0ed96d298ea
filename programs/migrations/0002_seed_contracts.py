from django.db import migrations


def forwards(apps, schema_editor):
    from programs.seed import load_seed

    load_seed(apps)


class Migration(migrations.Migration):
    dependencies = [("programs", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

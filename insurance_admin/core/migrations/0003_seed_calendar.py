from django.db import migrations


def forwards(apps, schema_editor):
    from insurance_admin.core.workdays import seed_from_chinesecalendar

    seed_from_chinesecalendar(apps.get_model("core", "CalendarDay"), apps.get_model("core", "CalendarYear"))


class Migration(migrations.Migration):
    dependencies = [("core", "0002_calendar")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

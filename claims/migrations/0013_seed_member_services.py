from django.db import migrations


def forwards(apps, schema_editor):
    from claims.seed import load_entitlements

    load_entitlements(apps)


class Migration(migrations.Migration):
    dependencies = [("claims", "0012_member_services_and_claim_reports")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

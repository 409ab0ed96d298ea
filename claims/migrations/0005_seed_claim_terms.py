from django.db import migrations


def forwards(apps, schema_editor):
    from claims.seed import load_claim_terms

    load_claim_terms(apps)


class Migration(migrations.Migration):
    dependencies = [("claims", "0004_claim_registration"), ("programs", "0005_seed_benefit_plans")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

from django.db import migrations


def seed_installment_rules(apps, schema_editor):
    """The seed contracts' premium installments (finance.calculations.seed.PREMIUM_PLANS) as rows."""
    from finance.seed import load_installment_rules

    load_installment_rules(apps)


class Migration(migrations.Migration):

    dependencies = [("finance", "0010_installment_rules_as_data"), ("programs", "0014_premium_rate_headcount_category")]

    operations = [migrations.RunPython(seed_installment_rules, migrations.RunPython.noop)]

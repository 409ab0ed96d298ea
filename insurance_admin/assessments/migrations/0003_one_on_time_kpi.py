"""Issue 21: the two on-time KPIs became one. Assessment items that name the old key
"claims.on_time_rate" (the seed templates' 理赔时限, and any an administrator made like it) now
name "claims.paid_within_limit_rate", the figure the dashboard shows; the definition did not
change (paid claims with a due date, paid on or before it)."""

from django.db import migrations

RENAMED = {"claims.on_time_rate": "claims.paid_within_limit_rate"}


def forward(apps, schema_editor):
    Item = apps.get_model("assessments", "AssessmentItem")
    for old, new in RENAMED.items():
        Item.objects.filter(kpi_key=old).update(kpi_key=new)


def backward(apps, schema_editor):
    Item = apps.get_model("assessments", "AssessmentItem")
    for old, new in RENAMED.items():
        Item.objects.filter(kpi_key=new).update(kpi_key=old)


class Migration(migrations.Migration):
    dependencies = [("assessments", "0002_seed_templates")]

    operations = [migrations.RunPython(forward, backward)]

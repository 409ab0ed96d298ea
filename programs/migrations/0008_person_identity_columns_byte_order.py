"""PostgreSQL: the person's ID number, person number and name compare byte by byte (COLLATE "C").

These columns are only ever compared for equality, by prefix (`name__startswith` at the window)
or sorted for a list. Under "C" one plain B-tree serves all three — the `varchar_pattern_ops`
twin Django adds for `name` goes — and sorting them (index builds, duplicate checks, the bulk
registry load) uses plain byte comparisons with abbreviated keys instead of the locale's rules:
at 2.2 M persons the three index builds take about half the time. The order of names is the code
point order, which is what the databases' C.UTF-8 collation gave already.

Django does not track column collations here (no `db_collation`, which SQLite would refuse), so
a later AlterField of these columns would reset them: re-run this operation after such a change.
"""

from django.db import migrations

COLUMNS = (("certno", 18), ("psn_no", 30), ("name", 60))
TABLE = "programs_insuredperson"
LIKE_INDEX = "programs_insuredperson_name_1f6b7705_like"


def _collate(schema_editor, collation: str, like_index_sql: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, length in COLUMNS:
        schema_editor.execute(f'ALTER TABLE {TABLE} ALTER COLUMN {column} TYPE varchar({length}) COLLATE "{collation}"')
    schema_editor.execute(like_index_sql)


def to_bytes_order(apps, schema_editor):
    _collate(schema_editor, "C", f"DROP INDEX IF EXISTS {LIKE_INDEX}")


def to_default_order(apps, schema_editor):
    _collate(schema_editor, "default", f"CREATE INDEX IF NOT EXISTS {LIKE_INDEX} ON {TABLE} (name varchar_pattern_ops)")


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0007_person_certno_unique_constraint"),
    ]

    operations = [migrations.RunPython(to_bytes_order, to_default_order)]

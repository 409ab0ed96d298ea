"""The tables of the bulk path: the registry's (names from the models' `_meta`) and a batch's
own — `registry_stage_<id>` holds the valid rows' checked values, `registry_rejected_<id>` the
rejected rows' raw values and reasons (the report), and `registry_map_<id>` joins the rows to
existing persons and enrollments while applying. Dropped when the batch is done."""

import re
from types import SimpleNamespace

from django.db import connection

from ...models import Enrollment, EnrollmentPeriod, InsuredPerson


def columns(model) -> SimpleNamespace:
    """A model's column names by field name (`columns(Enrollment).person` is "person_id")."""
    return SimpleNamespace(**{f.name: f.column for f in model._meta.concrete_fields})


def text(value: str) -> str:
    """A choice value (`TextChoices`) as an SQL literal: kept in the statement, where the
    planner can match it against a partial index's condition."""
    if not re.fullmatch(r"[a-z_]+", value):
        raise ValueError(f"not a plain choice value: {value!r}")
    return f"'{value}'"


P, PC = InsuredPerson._meta.db_table, columns(InsuredPerson)
E, EC = Enrollment._meta.db_table, columns(Enrollment)
H, HC = EnrollmentPeriod._meta.db_table, columns(EnrollmentPeriod)

#: an enrollment as a list writes it (with `id` in front when the ids are reserved)
ENROLLMENT_COLUMNS = (
    EC.person, EC.contract, EC.area, EC.category, EC.category_detail, EC.employment, EC.health,
    EC.continuous_no_claim_3y, EC.student, EC.enrolled_from, EC.enrolled_to, EC.status, EC.source,
    EC.attributes_from,
)
INSERT_ENROLLMENTS = f"INSERT INTO {E} ({', '.join(ENROLLMENT_COLUMNS)})"
#: a person as a list writes it
PERSON_COLUMNS = (PC.certno, PC.psn_no, PC.name, PC.sex, PC.birth_date, PC.phone)
_PREFIXES = ("registry_stage_", "registry_rejected_", "registry_map_")


def stage_table(batch_id: int) -> str:
    """The valid rows of a batch: line number and checked values."""
    return f"registry_stage_{int(batch_id)}"


def rejected_table(batch_id: int) -> str:
    """The rejected rows of a batch: line number, raw values, reason (and checked values and
    duplicate kind for the rows rejected as duplicates)."""
    return f"registry_rejected_{int(batch_id)}"


def map_table(batch_id: int) -> str:
    return f"registry_map_{int(batch_id)}"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def unlogged() -> str:
    # Staging data is reproducible from the file: no WAL for it on PostgreSQL.
    return "UNLOGGED " if is_postgres() else ""


def drop_tables(batch_id: int) -> None:
    with connection.cursor() as cur:
        for table in (map_table(batch_id), rejected_table(batch_id), stage_table(batch_id)):
            cur.execute(f"DROP TABLE IF EXISTS {table}")


def staged_batch_ids() -> set[int]:
    """Batch ids that have a stage or map table in the database."""
    found = set()
    for name in connection.introspection.table_names():
        for prefix in _PREFIXES:
            if name.startswith(prefix) and name[len(prefix):].isdigit():
                found.add(int(name[len(prefix):]))
    return found


def stage_exists(batch_id: int) -> bool:
    return stage_table(batch_id) in connection.introspection.table_names()


def db_date(value):
    return None if value is None else connection.ops.adapt_datefield_value(value)


def plans(cur, *, whole_tables: bool) -> None:
    """Planner settings for the rest of the transaction (PostgreSQL).

    Whole tables joined: no nested loops (statistics of tables filled in this transaction can
    be stale), and parallel workers even where the planner cannot know that a filter keeps
    few rows (it prices moving ~all 2.2 M rows to the leader, and stays serial otherwise).
    A few rows of a small analysed table finding theirs: nested loops over the primary key,
    priced for SSDs (random_page_cost 1.1; with the default 4 the planner hashes 2.2 M rows
    to update 20,000)."""
    if not is_postgres():
        return
    if whole_tables:
        cur.execute("SET LOCAL enable_nestloop = off")
        cur.execute("SET LOCAL parallel_tuple_cost = 0.001")
        cur.execute("SET LOCAL random_page_cost = DEFAULT")
    else:
        cur.execute("SET LOCAL enable_nestloop = on")
        cur.execute("SET LOCAL parallel_tuple_cost = DEFAULT")
        cur.execute("SET LOCAL random_page_cost = 1.1")

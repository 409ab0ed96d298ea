"""Step 2b, a later list: new persons and enrollments, dated changes, by one join.

One join of the list with the registry gives the person and the contract's enrollment of
every row, keeping only the rows with something to do (a new person or enrollment, another
name or psn_no, changed attributes or end) — a later list changes a few per cent of its rows,
so the map stays small and PostgreSQL runs the join in parallel workers (a CREATE TABLE AS may
be parallel; an UPDATE, an INSERT … SELECT or a DELETE may not). The changes are then written
by primary key. The rule is `programs.registry.rule`, its SQL `rule_sql`."""

import datetime as dt

from ...models import Enrollment, EnrollmentPeriod
from ..rule import ATTRIBUTES, gap_periods
from . import rule_sql
from .first_load import new_enrollment
from .tables import (
    EC,
    HC,
    INSERT_ENROLLMENTS,
    PC,
    PERSON_COLUMNS,
    E,
    H,
    P,
    db_date,
    is_postgres,
    plans,
    text,
    unlogged,
)

#: the values of a row the rule reads: the list's under these names in the map, the
#: enrollment's as `e_<name>`
COMPARED = (*ATTRIBUTES, "status", "enrolled_from", "enrolled_to")
#: a period as the bulk path writes it: the enrollment, the old attributes, status, dates, batch
PERIOD_COLUMNS = (
    HC.enrollment, *(EnrollmentPeriod._meta.get_field(a).column for a in ATTRIBUTES), HC.status, HC.valid_from,
    HC.valid_to, HC.batch,
)


def _e(name: str) -> str:
    return Enrollment._meta.get_field(name).column


# the names of the rule's values where each statement reads them
def _joining_new(a):
    return f"s.{a}"


def _joining_old(a):
    return f"e.{_e(a)}"


def _map_new(a):
    return a


def _map_old(a):
    return f"e_{a}"


def _from_map_new(a):
    return f"m.{a}"


def _from_map_old(a):
    return f"m.e_{a}"


def build_map(cur, *, stage: str, m: str, contract_id: int) -> None:
    """The map table: the rows with something to do, with their person and enrollment."""
    held = ",\n".join(f"e.{_e(a)} AS e_{a}" for a in COMPARED)
    cur.execute(f"DROP TABLE IF EXISTS {m}")
    cur.execute(
        f"""CREATE {unlogged()}TABLE {m} AS
            SELECT s.c_certno, s.c_psn_no, s.c_name, s.sex, s.birth_date,
                   p.{PC.id} AS person_id, p.{PC.name} AS p_name, p.{PC.psn_no} AS p_psn_no, e.{EC.id} AS enrollment_id,
                   {', '.join(f's.{a}' for a in COMPARED)},
                   {held},
                   COALESCE(e.{EC.attributes_from}, e.{EC.enrolled_from}) AS e_attributes_from
            FROM {stage} s
            LEFT JOIN {P} p ON p.{PC.certno} = s.c_certno
            LEFT JOIN {E} e ON e.{EC.person} = p.{PC.id} AND e.{EC.contract} = %s
                           AND e.{EC.status} <> {text(Enrollment.Status.CANCELLED)}
            WHERE p.{PC.id} IS NULL OR e.{EC.id} IS NULL
               OR {rule_sql.person_changed('s.c_name', 's.c_psn_no', f'p.{PC.name}', f'p.{PC.psn_no}')}
               OR {rule_sql.attributes_changed(_joining_new, _joining_old)}
               OR {rule_sql.end_changed(_joining_new, _joining_old)}
        """,
        [contract_id],
    )
    if is_postgres():
        cur.execute(f"ANALYZE {m}")
        plans(cur, whole_tables=False)  # the map is small and analysed
    else:
        cur.execute(f"CREATE INDEX {m}_enrollment ON {m} (enrollment_id)")
        cur.execute(f"CREATE INDEX {m}_person ON {m} (person_id)")


def persons(cur, *, m: str) -> None:
    """Known persons take the list's name and person number; new ones are added."""
    cur.execute(
        f"""UPDATE {P} SET {PC.name} = d.c_name, {PC.psn_no} = COALESCE(d.c_psn_no, {P}.{PC.psn_no})
            FROM (SELECT person_id, c_name, c_psn_no FROM {m}
                  WHERE person_id IS NOT NULL
                    AND {rule_sql.person_changed('c_name', 'c_psn_no', 'p_name', 'p_psn_no')}) d
            WHERE {P}.{PC.id} = d.person_id"""
    )
    cur.execute(
        f"""INSERT INTO {P} ({', '.join(PERSON_COLUMNS)})
            SELECT c_certno, c_psn_no, c_name, sex, birth_date, '' FROM {m}
            WHERE person_id IS NULL"""
    )
    if cur.rowcount:
        cur.execute(
            f"""UPDATE {m} SET person_id = p.{PC.id} FROM {P} p
                WHERE {m}.person_id IS NULL AND p.{PC.certno} = {m}.c_certno"""
        )


def new_enrollments(cur, *, m: str, contract_id: int, source: str) -> int:
    """The rows without an enrollment in the contract. Returns how many were added."""
    cur.execute(
        f"""{INSERT_ENROLLMENTS}
            SELECT person_id, %s, {new_enrollment('')}
            FROM {m} WHERE enrollment_id IS NULL""",
        [contract_id, False, False, source],
    )
    return cur.rowcount


def dated_changes(cur, *, m: str, batch_id: int, effective_date: dt.date) -> tuple[int, int]:
    """The old state of changed enrollments kept as periods, then the list's state written.
    Returns (periods recorded, enrollments changed)."""
    eff, eff_1 = db_date(effective_date), db_date(effective_date - dt.timedelta(days=1))
    attr_changed = rule_sql.attributes_changed(_map_new, _map_old)
    returned = rule_sql.returns_after_gap(_map_new, _map_old)
    old_attributes = ", ".join(f"e_{a}" for a in ATTRIBUTES)
    cur.execute(
        f"""INSERT INTO {H} ({', '.join(PERIOD_COLUMNS)})
            SELECT enrollment_id, {old_attributes}, {rule_sql.period_status(_map_old)},
                   e_attributes_from, %s, %s
            FROM {m}
            WHERE enrollment_id IS NOT NULL AND {attr_changed} AND NOT {returned}
              AND e_attributes_from <= %s""",
        [eff_1, batch_id, eff_1, eff_1],
    )
    periods = cur.rowcount
    # Back on the list after an exit with days between: the gap is kept (`rule.gap_periods`).
    cur.execute(
        f"""SELECT enrollment_id, {old_attributes}, e_attributes_from, e_enrolled_to
            FROM {m} WHERE enrollment_id IS NOT NULL AND {returned}""",
        [eff_1],
    )
    gaps = [
        (enrollment, *attributes, p["status"], db_date(p["valid_from"]), db_date(p["valid_to"]), batch_id)
        for enrollment, *attributes, since, end in cur.fetchall()
        for p in gap_periods(_as_date(since), _as_date(end), effective_date)
    ]
    if gaps:
        cur.executemany(
            f"INSERT INTO {H} ({', '.join(PERIOD_COLUMNS)}) VALUES ({', '.join(['%s'] * len(PERIOD_COLUMNS))})",
            gaps,
        )
        periods += len(gaps)
    written = ", ".join(f"{_e(a)} = m.{a}" for a in (*ATTRIBUTES, "status", "enrolled_to"))
    cur.execute(
        f"""UPDATE {E} SET {written},
                   {EC.attributes_from} = CASE
                       WHEN {rule_sql.returns_after_gap(_from_map_new, _from_map_old)} THEN %s
                       WHEN {rule_sql.attributes_changed(_from_map_new, _from_map_old)}
                            AND m.e_attributes_from < %s THEN %s
                       ELSE {E}.{EC.attributes_from} END
            FROM {m} m
            WHERE {E}.{EC.id} = m.enrollment_id
              AND ({rule_sql.attributes_changed(_from_map_new, _from_map_old)}
                   OR {rule_sql.end_changed(_from_map_new, _from_map_old)})""",
        [eff_1, eff, eff, eff],
    )
    return periods, cur.rowcount


def _as_date(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value

"""Step 2c, a complete later list: the enrollments of persons missing from it end.

In force in the list's areas (within the uploader's), of the list's source, and the person
nowhere on the list (a rejected row still names them: not an exit) — `rule.decide` with no
row. Found by a parallel anti-join into a small table, then ended by primary key."""

import datetime as dt

from ..rule import IN_FORCE, TERMINATED
from .tables import EC, PC, E, P, db_date, is_postgres, plans, rejected_table, text, unlogged


def apply(cur, *, batch_id: int, stage: str, m: str, contract_id: int, source: str, effective_date: dt.date,
          scope: frozenset[int] | None) -> int:
    """End the enrollments the list leaves out; returns how many."""
    eff_1 = db_date(effective_date - dt.timedelta(days=1))
    cur.execute(f"SELECT DISTINCT area_id FROM {stage}")
    areas = {r[0] for r in cur.fetchall()}
    if scope is not None:
        areas &= set(scope)
    if not areas:
        return 0
    x = f"{m}_exits"
    marks = ", ".join(["%s"] * len(areas))
    in_force = ", ".join(text(s) for s in IN_FORCE)
    cur.execute(f"DROP TABLE IF EXISTS {x}")
    plans(cur, whole_tables=True)
    cur.execute(
        f"""CREATE {unlogged()}TABLE {x} AS
            SELECT e.{EC.id} FROM {E} e JOIN {P} p ON p.{PC.id} = e.{EC.person}
            WHERE e.{EC.contract} = %s AND e.{EC.source} = %s AND e.{EC.status} IN ({in_force})
              AND e.{EC.area} IN ({marks})
              AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.c_certno = p.{PC.certno})
              AND NOT EXISTS (SELECT 1 FROM {rejected_table(batch_id)} r WHERE r.c_certno = p.{PC.certno})""",
        [contract_id, source, *sorted(areas)],
    )
    if is_postgres():
        cur.execute(f"ANALYZE {x}")
    plans(cur, whole_tables=False)
    # `rule.exit_end`: the day before the effective date, never before the start
    cur.execute(
        f"""UPDATE {E} SET {EC.status} = {text(TERMINATED)},
                   {EC.enrolled_to} = CASE WHEN {EC.enrolled_from} > %s THEN {EC.enrolled_from} ELSE %s END
            WHERE {EC.id} IN (SELECT {EC.id} FROM {x})""",
        [eff_1, eff_1],
    )
    exited = cur.rowcount
    cur.execute(f"DROP TABLE {x}")
    return exited


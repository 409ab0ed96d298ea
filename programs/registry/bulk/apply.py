"""The one-transaction application of a validated list: which steps run, in which order.

A contract's first list (nothing to match, change or end) is a first load (`first_load`), on
PostgreSQL with the registry's indexes rebuilt when the list is big (`index_rebuild`); a later
list goes through the map (`changes`) and, when complete, its exits (`exits`). The caller
holds the transaction: this is all or nothing."""

import contextlib
import datetime as dt
from collections.abc import Callable

from django.db import connection

from ...models import Enrollment
from . import changes, exits, first_load
from .index_rebuild import IndexRebuild, bulk_worthwhile
from .tables import EC, PC, E, P, is_postgres, map_table, plans, stage_table, text

Progress = Callable[..., None]
_CANCELLED = text(Enrollment.Status.CANCELLED)


def individual_enrollments_to_supersede(batch_id: int, contract_id: int) -> list[int]:
    """Individual policies of persons on a group list (Beijing: the group enrollment wins)."""
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT e.{EC.id} FROM {E} e
                JOIN {P} p ON p.{PC.id} = e.{EC.person}
                JOIN {stage_table(batch_id)} s ON s.c_certno = p.{PC.certno}
                WHERE e.{EC.contract} = %s
                  AND e.{EC.source} = {text(Enrollment.Source.INDIVIDUAL)} AND e.{EC.status} <> {_CANCELLED}
                ORDER BY e.{EC.id}""",
            [contract_id],
        )
        return [r[0] for r in cur.fetchall()]


def apply(*, batch_id: int, contract_id: int, source: str, effective_date: dt.date, full_list: bool,
          scope: frozenset[int] | None, step: Progress, superseded: list[int]) -> dict[str, int]:
    """Apply the valid staged rows: persons, new enrollments, dated attribute changes, exits.
    The caller holds the transaction: this is all or nothing."""
    stage, m = stage_table(batch_id), map_table(batch_id)
    with connection.cursor() as cur:
        if is_postgres():
            plans(cur, whole_tables=True)
            cur.execute("SET LOCAL work_mem = '512MB'")  # 2.2 M-row hash joins in memory, not in batches
            # The import is one transaction: a crash before the commit record is flushed loses
            # nothing but the import itself (the batch can be restarted), never consistency.
            cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute(
            f"SELECT EXISTS (SELECT 1 FROM {E} WHERE {EC.contract} = %s AND {EC.status} <> {_CANCELLED})",
            [contract_id],
        )
        contract_was_empty = not cur.fetchone()[0]
        first = contract_was_empty and not superseded  # nothing to match, change or end
        rebuild = contextlib.nullcontext()
        if first:
            cur.execute(f"SELECT COUNT(*) FROM {stage}")
            if bulk_worthwhile(cur, cur.fetchone()[0]):
                rebuild = IndexRebuild(cur, (P, E), step)
        with rebuild:
            step("persons")
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {P})")
            registry_was_empty = not cur.fetchone()[0]
            if first:
                if not registry_was_empty:  # known persons of another contract's list
                    first_load.known_persons_update(cur, stage)
                bulk = isinstance(rebuild, IndexRebuild)
                if not bulk:
                    first_load.persons(cur, stage=stage, registry_was_empty=registry_was_empty)
                step("matching")
                step("enrollments")
                if bulk:
                    added = first_load.bulk(cur, stage=stage, contract_id=contract_id, source=source,
                                            registry_was_empty=registry_was_empty)
                else:
                    added = first_load.enrollments(cur, stage=stage, contract_id=contract_id, source=source)
                step("changes")
                if full_list:
                    step("exits")
                return {"added": added, "periods": 0, "changed": 0, "exited": 0, "unchanged": 0}

            step("matching")
            changes.build_map(cur, stage=stage, m=m, contract_id=contract_id)
            changes.persons(cur, m=m)
            step("enrollments")
            result = {"added": changes.new_enrollments(cur, m=m, contract_id=contract_id, source=source)}
            step("changes")
            result["periods"], result["changed"] = changes.dated_changes(
                cur, m=m, batch_id=batch_id, effective_date=effective_date
            )
            result["exited"] = 0
            if full_list:
                step("exits")
                result["exited"] = exits.apply(
                    cur, batch_id=batch_id, stage=stage, m=m, contract_id=contract_id, source=source,
                    effective_date=effective_date, scope=scope,
                )
            if superseded:
                _link_superseded(cur, superseded)
            cur.execute(f"SELECT COUNT(*) FROM {stage}")
            valid = cur.fetchone()[0]
            result["unchanged"] = valid - result["added"] - result["changed"]
            cur.execute(f"DROP TABLE {m}")
    return result


def _link_superseded(cur, superseded: list[int]) -> None:
    """Each superseded individual policy points at the person's group enrollment."""
    marks = ", ".join(["%s"] * len(superseded))
    cur.execute(
        f"""UPDATE {E} SET {EC.superseded_by} = (
                SELECT g.{EC.id} FROM {E} g WHERE g.{EC.person} = {E}.{EC.person}
                  AND g.{EC.contract} = {E}.{EC.contract} AND g.{EC.status} <> {_CANCELLED})
            WHERE {EC.id} IN ({marks})""",
        list(superseded),
    )

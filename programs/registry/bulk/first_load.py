"""Step 2a, a contract's first list: every valid row is a new enrollment (nothing to match,
change or end). Persons already in the registry (another contract's list) keep their id and
take the list's name and person number."""

from ...models import Enrollment
from .index_rebuild import reserve_ids
from .rule_sql import person_changed
from .tables import EC, ENROLLMENT_COLUMNS, INSERT_ENROLLMENTS, PC, PERSON_COLUMNS, E, P, text

_STAGED_PERSON = "c_certno, c_psn_no, c_name, sex, birth_date, ''"


def new_enrollment(row: str = "s") -> str:
    """The list's row (`row`: the stage's or the map's alias, or none) as a new enrollment
    after its person and contract (`rule.decide` for no enrollment): its values, the model's
    defaults for what a list does not say, attributes since the row's start. Three
    parameters: the two flags and the source."""
    r = f"{row}." if row else ""
    return (f"{r}area_id, {r}category, {r}category_detail, {r}employment, {text(Enrollment.Health.HEALTHY)}, %s, %s,"
            f" {r}enrolled_from, {r}enrolled_to, {r}status, %s, {r}enrolled_from")


def known_persons_update(cur, stage: str) -> None:
    """Persons of the list already in the registry take its name and person number."""
    cur.execute(
        f"""UPDATE {P} SET {PC.name} = s.c_name, {PC.psn_no} = COALESCE(s.c_psn_no, {P}.{PC.psn_no})
            FROM {stage} s
            WHERE {P}.{PC.certno} = s.c_certno
              AND {person_changed('s.c_name', 's.c_psn_no', f'{P}.{PC.name}', f'{P}.{PC.psn_no}')}"""
    )


def bulk(cur, *, stage: str, contract_id: int, source: str, registry_was_empty: bool) -> int:
    """The tables are locked and their indexes dropped (`IndexRebuild`), so blocks of person and
    enrollment ids can be reserved from the sequences: the row on line n gets base + n of
    each, and persons and enrollments are written by two plain scans of the stage, without
    joining 2.2 M rows back by ID number and without a sequence call per row. Returns the
    enrollments added."""
    cur.execute(f"SELECT MAX(line_no) FROM {stage}")
    top = cur.fetchone()[0]
    base, e_base = reserve_ids(cur, P, PC.id, top), reserve_ids(cur, E, EC.id, top)
    # A person already in the registry (another contract's list) keeps their id;
    # enrollments go first, while the persons table holds only those.
    known, join, new_only = "NULL::bigint", "", ""
    if not registry_was_empty:
        known, join = f"p.{PC.id}", f" LEFT JOIN {P} p ON p.{PC.certno} = s.c_certno"
        new_only = f" WHERE NOT EXISTS (SELECT 1 FROM {P} p WHERE p.{PC.certno} = s.c_certno)"
    cur.execute(
        f"""INSERT INTO {E} ({EC.id}, {', '.join(ENROLLMENT_COLUMNS)})
            SELECT %s + s.line_no, COALESCE({known}, %s + s.line_no), %s, {new_enrollment()}
            FROM {stage} s{join}""",
        [e_base, base, contract_id, False, False, source],
    )
    added = cur.rowcount
    cur.execute(
        f"""INSERT INTO {P} ({PC.id}, {', '.join(PERSON_COLUMNS)})
            SELECT %s + s.line_no, {_STAGED_PERSON} FROM {stage} s
            {new_only}""",
        [base],
    )
    return added


def persons(cur, *, stage: str, registry_was_empty: bool) -> None:
    """The list's new persons, indexes maintained row by row (a small first list, or SQLite)."""
    new_persons = "" if registry_was_empty else (
        f" WHERE NOT EXISTS (SELECT 1 FROM {P} p WHERE p.{PC.certno} = s.c_certno)"
    )
    cur.execute(
        f"""INSERT INTO {P} ({', '.join(PERSON_COLUMNS)})
            SELECT {_STAGED_PERSON} FROM {stage} s
            {new_persons}"""
    )


def enrollments(cur, *, stage: str, contract_id: int, source: str) -> int:
    """Every row's enrollment, found by its person's ID number. Returns how many."""
    cur.execute(
        f"""{INSERT_ENROLLMENTS}
            SELECT p.{PC.id}, %s, {new_enrollment()}
            FROM {stage} s JOIN {P} p ON p.{PC.certno} = s.c_certno""",
        [contract_id, False, False, source],
    )
    return cur.rowcount

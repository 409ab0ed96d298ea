"""Reads for the workbench: person search within the user's areas."""

import datetime as dt
import functools
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Prefetch, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from insurance_admin.accounts.scoping import area_scope_ids
from insurance_admin.core.imports import progress as import_progress
from insurance_admin.core.money import headcount_premium

from .identity import looks_like_certno, normalize_certno, parse_certno
from .models import (
    Area,
    Contract,
    Enrollment,
    EnrollmentPeriod,
    HeadcountSnapshot,
    ImportBatch,
    InsuredPerson,
    Program,
)

SEARCH_LIMIT = 50


@dataclass
class PersonRow:
    person: InsuredPerson
    enrollments: list[Enrollment]  # in the user's areas, newest contract first
    year_enrollment: Enrollment | None  # the one in force in the selected year, if any


@dataclass
class PersonSearch:
    query: str
    kind: str  # "certno", "psn_no", "name" or "" when nothing was asked
    year: int
    rows: list[PersonRow] = field(default_factory=list)
    certno_problem: str = ""  # the typed ID number is itself invalid (told, still searched)
    truncated: bool = False
    problem: str = ""  # the query itself is refused (NUL character, too long): told, not searched
    out_of_area: bool = False  # an exact match exists, enrolled only outside the user's areas: told, not shown


#: Longer than any name, ID number or person number; a longer query is refused, not searched
#: (a 50,000-character LIKE pattern is "too complex" for SQLite and slow anywhere).
SEARCH_MAX = 100


def _enrollments_prefetch(user) -> Prefetch:
    qs = Enrollment.objects.for_user(user).select_related("contract", "contract__program", "area")
    return Prefetch("enrollments", queryset=qs.order_by("-contract__year", "contract__code"), to_attr="visible_enrollments")


# The window's exact look-up (ID number or psn_no) as one statement: the person, their
# enrollments in the user's areas and each enrollment's contract, program and area, joined.
# The ORM's person query plus its prefetch took two round trips and ~6 ms of query compiling
# on a slow machine (8.8 ms a look-up against 0.03 ms in the database). Scoping is the same
# as `for_user`: enrollments in `area_scope_ids(user)`, and a restricted user sees a person
# only through such an enrollment.
_JOINED = ((InsuredPerson, "p"), (Enrollment, "e"), (Contract, "c"), (Program, "g"), (Area, "a"))


@functools.cache
def _select_list() -> tuple[str, list[tuple[type, list[str], slice]]]:
    """The joined models' columns (from their `_meta`, once per process) and where each
    model's values sit in a row."""
    parts, layout, at = [], [], 0
    for model, alias in _JOINED:
        fields = list(model._meta.concrete_fields)
        parts += [f"{alias}.{connection.ops.quote_name(f.column)}" for f in fields]
        layout.append((model, [f.attname for f in fields], slice(at, at + len(fields))))
        at += len(fields)
    return ", ".join(parts), layout


def _exact_persons(user, certno: str | None, psn_no: str) -> list[InsuredPerson]:
    """Persons whose ID number is `certno` or whose psn_no is `psn_no`, ordered like the
    search (name, ID number), each with `visible_enrollments` (newest contract first)."""
    scope = area_scope_ids(user)
    if scope is not None and not scope:
        return []
    columns, layout = _select_list()
    q = connection.ops.quote_name
    where, params = [], []
    scoped = ""
    if scope is not None:
        scoped = f" AND e.area_id IN ({', '.join(['%s'] * len(scope))})"
        params += sorted(scope)
    if certno is not None:
        where.append("p.certno = %s")
        params.append(certno)
    where.append("p.psn_no = %s")
    params.append(psn_no)
    sql = (
        f"SELECT {columns} FROM {q(InsuredPerson._meta.db_table)} p"
        f" LEFT JOIN {q(Enrollment._meta.db_table)} e ON e.person_id = p.id{scoped}"
        f" LEFT JOIN {q(Contract._meta.db_table)} c ON c.id = e.contract_id"
        f" LEFT JOIN {q(Program._meta.db_table)} g ON g.id = c.program_id"
        f" LEFT JOIN {q(Area._meta.db_table)} a ON a.id = e.area_id"
        f" WHERE ({' OR '.join(where)}){'' if scope is None else ' AND e.id IS NOT NULL'}"
        " ORDER BY p.name, p.certno, c.year DESC, c.code, e.id"
    )
    persons: dict[int, InsuredPerson] = {}
    db = connection.alias
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    (pm, pn, ps), (em, en, es), (cm, cn, cs), (gm, gn, gs), (am, an, as_) = layout
    for row in rows:
        person = persons.get(row[ps][0])
        if person is None:
            person = persons[row[ps][0]] = pm.from_db(db, pn, row[ps])
            person.visible_enrollments = []
        if row[es][0] is None:
            continue
        enrollment = em.from_db(db, en, row[es])
        contract = cm.from_db(db, cn, row[cs])
        contract.program = gm.from_db(db, gn, row[gs])
        enrollment.contract = contract
        enrollment.area = am.from_db(db, an, row[as_])
        enrollment.person = person
        person.visible_enrollments.append(enrollment)
    return list(persons.values())


def enrollment_for_year(enrollments: list[Enrollment], year: int) -> Enrollment | None:
    for e in enrollments:
        if e.contract.year == year and e.status != Enrollment.Status.CANCELLED:
            return e
    return None


def visible_years(user) -> list[int]:
    return sorted(set(Contract.objects.for_user(user).values_list("year", flat=True)), reverse=True)


def default_year(user, today: dt.date | None = None) -> int:
    """The newest contract year in the user's areas that has started; else this year."""
    today = today or timezone.localdate()
    started = [y for y in visible_years(user) if y <= today.year]
    return started[0] if started else today.year


def search_persons(user, query: str, year: int) -> PersonSearch:
    query = (query or "").strip()
    if not query:
        return PersonSearch(query="", kind="", year=year)
    if "\x00" in query or len(query) > SEARCH_MAX:
        # PostgreSQL refuses NUL in a string literal (a 500): refuse it here, shown without it
        problem = (_("The search cannot contain NUL characters (\\x00).") if "\x00" in query
                   else _("The search is too long (at most %(max)s characters).") % {"max": SEARCH_MAX})
        return PersonSearch(query=query.replace("\x00", "")[:SEARCH_MAX], kind="", year=year, problem=problem)
    result = PersonSearch(query=query, kind="name", year=year)
    if looks_like_certno(query):
        result.kind = "certno"
        certno = normalize_certno(query)
        try:
            parse_certno(certno)
        except ValidationError as exc:
            result.certno_problem = " ".join(exc.messages)
        persons = _exact_persons(user, certno, query)
    elif any(ch.isdigit() for ch in query):
        result.kind = "psn_no"
        digits = normalize_certno(query)
        if re.fullmatch(r"\d{14}", digits):  # an ID number missing characters (15–17 are read as one above)
            result.certno_problem = _("ID number must have 18 characters, got %(n)d.") % {"n": len(digits)}
        persons = _exact_persons(user, None, query)
    else:
        qs = InsuredPerson.objects.for_user(user).filter(name__startswith=query)
        persons = list(qs.prefetch_related(_enrollments_prefetch(user)).order_by("name", "certno")[: SEARCH_LIMIT + 1])
    if not persons and result.kind in ("certno", "psn_no"):
        result.out_of_area = _enrolled_elsewhere(user, normalize_certno(query) if result.kind == "certno" else None, query)
    result.truncated = len(persons) > SEARCH_LIMIT
    result.rows = [
        PersonRow(p, p.visible_enrollments, enrollment_for_year(p.visible_enrollments, year))
        for p in persons[:SEARCH_LIMIT]
    ]
    return result


def _enrolled_elsewhere(user, certno: str | None, psn_no: str) -> bool:
    """Whether the exact look-up that found nothing in the user's areas matches a person enrolled
    somewhere else: the window answers "not in your areas" (no name, no ID number shown)."""
    scope = area_scope_ids(user)
    if scope is None or not scope:  # unrestricted users found everyone; users without areas are told nothing
        return False
    match = Q(psn_no=psn_no) | (Q(certno=certno) if certno is not None else Q())
    return InsuredPerson.objects.filter(match, enrollments__isnull=False).exists()


def person_for_user(user, pk: int) -> InsuredPerson:
    """The person with their enrollments in the user's areas; DoesNotExist outside them."""
    return InsuredPerson.objects.for_user(user).prefetch_related(_enrollments_prefetch(user)).get(pk=pk)


def earlier_states(enrollments: list[Enrollment]) -> list:
    """The dated earlier states of these (already scoped) enrollments: attribute changes,
    suspensions and the gaps after exits kept by later lists, per enrollment, oldest first."""
    if not enrollments:
        return []
    by_id = {e.pk: e for e in enrollments}
    order = {pk: i for i, pk in enumerate(by_id)}  # the enrollments' own order (newest contract first)
    periods = list(EnrollmentPeriod.objects.filter(enrollment_id__in=by_id).select_related("area"))
    for period in periods:
        period.enrollment = by_id[period.enrollment_id]
    return sorted(periods, key=lambda p: (order[p.enrollment_id], p.valid_from))


def user_area_names(user) -> list[str]:
    """What the search covers, as told to the user; empty when they are unrestricted."""
    if user.is_superuser:
        return []
    return list(Area.objects.for_user(user).counties().order_by("code").values_list("name", flat=True))


# --- the registry on a date ----------------------------------------------------------------

HeadcountKey = tuple[int, str, str]  # (area id, category, employment)


def headcount_on(*, contract: Contract, on: dt.date, area_ids=None) -> dict[HeadcountKey, int]:
    """Persons covered by the contract on date `on`, per area, category and employment.

    Covered: enrolled_from <= on <= enrolled_to (open end: to the end of the contract), not
    cancelled, not suspended on that date. Attributes are those valid on that date: an
    EnrollmentPeriod covering it, else the enrollment's current values.
    """
    covered = (
        Enrollment.objects.filter(contract=contract, enrolled_from__lte=on)
        .exclude(status=Enrollment.Status.CANCELLED)
        .filter(Q(enrolled_to__isnull=True) | Q(enrolled_to__gte=on))
    )
    if area_ids is not None:
        covered_current = covered.filter(area_id__in=area_ids)
    else:
        covered_current = covered
    current = (
        covered_current.annotate(since=Coalesce("attributes_from", "enrolled_from"))
        .filter(since__lte=on)
        .exclude(status=Enrollment.Status.SUSPENDED)
        .values("area_id", "category", "employment")
        .annotate(n=Count("id"))
    )
    past = (
        EnrollmentPeriod.objects.filter(enrollment__in=covered, valid_from__lte=on, valid_to__gte=on)
        .filter(status=EnrollmentPeriod.Status.ACTIVE)  # not suspended, not a gap after an exit
    )
    if area_ids is not None:
        past = past.filter(area_id__in=area_ids)
    past = past.values("area_id", "category", "employment").annotate(n=Count("id"))
    counts: dict[HeadcountKey, int] = {}
    for row in [*current, *past]:
        key = (row["area_id"], row["category"], row["employment"])
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def headcount_by_area_category(*, contract: Contract, on: dt.date) -> dict[tuple[int, str], int]:
    """Headcount on a date per area and category (employment summed)."""
    result: dict[tuple[int, str], int] = {}
    for (area_id, category, _employment), n in headcount_on(contract=contract, on=on).items():
        result[(area_id, category)] = result.get((area_id, category), 0) + n
    return result


def premium_rate_for(rates, category: str, employment: str):
    """The per-capita premium for a category and employment: exact match first, then the
    contract's "any" rows."""
    by_key = {(r.category, r.employment): r.per_capita for r in rates}
    for key in ((category, employment), (category, "any"), ("any", employment), ("any", "any")):
        if key in by_key:
            return by_key[key]
    return None


@dataclass
class SnapshotTable:
    kind: str
    as_of: dt.date | None
    rows: list  # HeadcountSnapshot with .area loaded
    total_headcount: int
    total_premium: object  # Decimal or None when a rate is missing


def contract_snapshots(contract: Contract, area_ids=None) -> list[SnapshotTable]:
    """The contract's snapshots; with `area_ids` (a county-bound reader's scope) only the rows
    of those areas, totalled over them (another county's count is not theirs to read)."""
    tables = []
    for kind in (HeadcountSnapshot.Kind.PROVISIONAL, HeadcountSnapshot.Kind.FINAL):
        rows = contract.headcount_snapshots.filter(kind=kind).select_related("area")
        if area_ids is not None:
            rows = rows.filter(area_id__in=area_ids)
        rows = list(rows)
        total = sum(r.headcount for r in rows)
        priced = [r for r in rows if r.per_capita is not None]
        premium = None
        if rows and len(priced) == len(rows):
            premium = headcount_premium(
                {str(r.pk): r.per_capita for r in rows}, {str(r.pk): r.headcount for r in rows}
            )
        tables.append(SnapshotTable(kind, rows[0].as_of if rows else None, rows, total, premium))
    return tables


# --- import batches -------------------------------------------------------------------------

APPLY_ROWS_PER_SECOND = {"postgresql": 150_000, "sqlite": 20_000}


def import_batch_interrupted(batch) -> bool:
    """An APPLYING batch whose worker is gone: nobody holds its row lock (PostgreSQL; on
    SQLite, no sign of life for six hours)."""
    if batch.status != ImportBatch.Status.APPLYING or batch.apply_started_at is None:
        return False
    age = timezone.now() - batch.apply_started_at
    if not connection.features.has_select_for_update_skip_locked:
        return age > dt.timedelta(hours=6)
    if age < dt.timedelta(seconds=60):
        return False
    with transaction.atomic():
        return ImportBatch.objects.select_for_update(skip_locked=True).filter(
            pk=batch.pk, status=ImportBatch.Status.APPLYING
        ).exists()


#: The registry application's entries in the import framework's progress store.
APPLY_PROGRESS_KIND = "registry-apply"
#: The registry validation's entries there (phase, bytes_read, rows_read/valid/rejected so far).
VALIDATE_PROGRESS_KIND = "registry-validate"
_INDEXES_FROM, _INDEXES_SHARE = 35, 62  # per cent of a bulk first load: inserts, then keys


def _apply_told(batch_id: int) -> dict:
    """The application's statement under way, as its worker wrote it (`services._apply_progress`)."""
    return import_progress.progress_read(APPLY_PROGRESS_KIND, batch_id)


def _apply_phase(told: dict) -> str:
    labels = {
        "persons": gettext("Writing insured persons"),
        "matching": gettext("Matching the list with the registry"),
        "enrollments": gettext("Writing enrollments"),
        "changes": gettext("Recording dated changes"),
        "exits": gettext("Ending the enrollments of persons no longer listed"),
    }
    if told.get("step") == "indexes":
        if told.get("total"):
            return gettext("Re-building indexes and keys (%(done)d of %(total)d)") % {
                "done": told["done"] + 1, "total": told["total"]}
        return gettext("Re-building indexes and keys")
    return labels.get(told.get("step"), "")


def import_batch_progress(batch) -> dict:
    """What the progress page polls: counts, percentage and an estimate of the time left."""
    now = timezone.now()
    status = batch.status
    interrupted = import_batch_interrupted(batch)
    applying = _apply_told(batch.pk) if status == ImportBatch.Status.APPLYING and not interrupted else {}
    # the counts so far of a running validation are in the progress store, the final ones on the row
    validating = status == ImportBatch.Status.VALIDATING
    counts = {name: getattr(batch, name) for name in ("phase", "bytes_read", "rows_read", "rows_valid", "rows_rejected")}
    if validating:
        told = import_progress.progress_read(VALIDATE_PROGRESS_KIND, batch.pk)
        counts.update({name: told[name] for name in counts if isinstance(told.get(name), type(counts[name]))})
    percent, eta = 0, None
    if validating:
        if batch.file_size and counts["bytes_read"]:
            fraction = min(counts["bytes_read"] / batch.file_size, 1)
            percent = int(fraction * 90)
            elapsed = (now - batch.started_at).total_seconds() if batch.started_at else 0
            if fraction > 0.01 and counts["phase"] == "reading":
                eta = int(elapsed / fraction - elapsed) + 5
        if counts["phase"] == "checking":
            percent = 95
    elif status == ImportBatch.Status.APPLYING and not interrupted:
        rate = APPLY_ROWS_PER_SECOND.get(connection.vendor, 20_000)
        expected = max(batch.rows_valid / rate, 1)
        elapsed = (now - batch.apply_started_at).total_seconds() if batch.apply_started_at else 0
        percent = min(int(elapsed / expected * 100), 99)
        eta = max(int(expected - elapsed), 0)
        if applying.get("step") == "indexes" and applying.get("total"):
            # A bulk first load re-builds its keys one statement after the other (about two
            # thirds of its time, after the inserts): the share of statements done, the clock
            # moving the bar on inside the statement under way.
            step_share = _INDEXES_SHARE / applying["total"]
            floor = _INDEXES_FROM + step_share * applying["done"]
            percent = int(min(max(percent, floor), floor + step_share))
            eta = int(elapsed * (100 - percent) / max(percent, 1))  # the clock's guess has run out
    elif status in (ImportBatch.Status.VALIDATED, ImportBatch.Status.DONE):
        percent = 100
    phases = {
        "reading": gettext("Reading and checking rows"),
        "checking": gettext("Checking duplicates and person numbers"),
    }
    phase = _apply_phase(applying) if applying else phases.get(counts["phase"], "")
    return {
        "id": batch.pk,
        "status": "interrupted" if interrupted else status,
        "status_display": gettext("Interrupted — the registry is unchanged; restart it") if interrupted else batch.get_status_display(),
        "phase": phase,
        "percent": percent,
        "eta_seconds": eta,
        "rows_read": counts["rows_read"],
        "rows_valid": counts["rows_valid"],
        "rows_rejected": counts["rows_rejected"],
        "rows_added": batch.rows_added,
        "rows_changed": batch.rows_changed,
        "rows_exited": batch.rows_exited,
        "rows_unchanged": batch.rows_unchanged,
        "rows_superseded": batch.rows_superseded,
        "bytes_read": counts["bytes_read"],
        "file_size": batch.file_size,
        "error": batch.error,
        "has_rejected_file": bool(batch.rejected_file),
        "confirmable": status == ImportBatch.Status.VALIDATED and batch.confirmed_at is None and batch.rows_valid > 0,
        "confirmed": batch.confirmed_at is not None,
        "finished": status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED) or interrupted,
    }


def enrollment_lists_being_applied() -> list[dict]:
    """The enrollment lists being written now, as the "please wait" page shows them
    (insurance_admin.core.middleware.register_busy_writer)."""
    rows = []
    for batch in ImportBatch.objects.filter(status=ImportBatch.Status.APPLYING).select_related("contract").order_by("pk"):
        progress = import_batch_progress(batch)
        rows.append({"label": batch.contract.name, "step": progress.get("phase") or progress.get("status_display"),
                     "percent": progress["percent"], "eta_seconds": progress["eta_seconds"]})
    return rows

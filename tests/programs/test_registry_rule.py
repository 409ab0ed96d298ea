"""The enrollment-change rule, stated once (`programs.registry.rule`): the pure decision, and
the two paths that apply it — the ORM (`services.enrollment_list_row_apply`,
`services.enrollment_list_exits_apply`, which call `rule.decide`) and the bulk SQL
(`programs.registry.bulk`, built from the rule's attributes and statuses) — run on the same
hand-built lists and leaving the same persons, enrollments and periods. Runs on SQLite and, with
DATABASE_URL, on PostgreSQL."""

import datetime as dt

import pytest

from programs import services
from programs.identity import normalize_certno
from programs.models import Area, Contract, Enrollment, EnrollmentPeriod, InsuredPerson
from programs.registry import rule
from programs.registry.files import FIELDS
from programs.registry.rows import RowContext, check_row, reasons
from tests.factories import UserFactory
from tests.programs.registry_helpers import csv_bytes, person_row, run_import

D = dt.date
FIRST, LATER = D(2025, 1, 1), D(2025, 9, 1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- the pure rule ----------------------------------------------------------------------------

def held(**kw) -> rule.Held:
    values = dict(area_id=1, category="ordinary", category_detail="", employment="active", status="active",
                  enrolled_from=FIRST, enrolled_to=None, attributes_from=None)
    return rule.Held(**{**values, **kw})


def listed(**kw) -> rule.Listed:
    values = dict(area_id=1, category="ordinary", category_detail="", employment="active", status="active",
                  enrolled_from=FIRST, enrolled_to=None)
    return rule.Listed(**{**values, **kw})


def test_a_person_without_an_enrollment_is_new_with_attributes_since_the_rows_start():
    decision = rule.decide(None, listed(enrolled_from=D(2025, 3, 1)), LATER)
    assert decision.kind == rule.Kind.NEW
    assert decision.values == {"area_id": 1, "category": "ordinary", "category_detail": "", "employment": "active",
                               "status": "active", "enrolled_from": D(2025, 3, 1), "enrolled_to": None,
                               "attributes_from": D(2025, 3, 1)}
    assert decision.periods == ()


def test_the_same_values_change_nothing():
    assert rule.decide(held(), listed(), LATER) == rule.Decision(rule.Kind.UNCHANGED)


def test_an_attribute_change_keeps_the_old_state_as_a_period_to_the_day_before():
    decision = rule.decide(held(attributes_from=D(2025, 4, 1)), listed(category="special", category_detail="低保"),
                           LATER)
    assert decision.kind == rule.Kind.CHANGED
    assert decision.values["attributes_from"] == LATER
    assert (decision.values["category"], decision.values["category_detail"]) == ("special", "低保")
    assert decision.periods == ({"area_id": 1, "category": "ordinary", "category_detail": "", "employment": "active",
                                 "status": "active", "valid_from": D(2025, 4, 1), "valid_to": D(2025, 8, 31)},)


def test_a_change_on_the_day_the_attributes_began_records_no_period():
    decision = rule.decide(held(attributes_from=LATER), listed(employment="retired"), LATER)
    assert decision.kind == rule.Kind.CHANGED
    assert decision.periods == () and "attributes_from" not in decision.values


def test_a_suspension_is_an_attribute_change_and_its_period_says_suspended():
    suspended = rule.decide(held(), listed(status="suspended"), LATER)
    assert suspended.kind == rule.Kind.CHANGED and suspended.periods[0]["status"] == "active"
    resumed = rule.decide(held(status="suspended"), listed(), LATER)
    assert resumed.periods[0]["status"] == "suspended"


def test_only_a_new_end_changes_the_end_and_records_no_period():
    decision = rule.decide(held(), listed(enrolled_to=D(2025, 10, 31)), LATER)
    assert decision.kind == rule.Kind.CHANGED
    assert decision.values["enrolled_to"] == D(2025, 10, 31) and decision.periods == ()


def test_a_return_after_a_gap_keeps_the_old_attributes_and_the_gap():
    decision = rule.decide(held(status="terminated", enrolled_to=D(2025, 5, 31)), listed(), LATER)
    assert decision.kind == rule.Kind.CHANGED
    assert decision.values["status"] == "active" and decision.values["enrolled_to"] is None
    assert decision.values["attributes_from"] == LATER
    assert [(p["status"], p["valid_from"], p["valid_to"]) for p in decision.periods] == [
        ("active", FIRST, D(2025, 5, 31)), ("exited", D(2025, 6, 1), D(2025, 8, 31))]


def test_a_return_the_day_after_the_exit_leaves_no_gap():
    decision = rule.decide(held(status="terminated", enrolled_to=D(2025, 8, 31)), listed(), LATER)
    assert decision.kind == rule.Kind.CHANGED and decision.periods == ()
    assert "attributes_from" not in decision.values


def test_missing_from_the_list_in_force_exits_the_day_before_never_before_the_start():
    assert rule.decide(held(), None, LATER) == rule.Decision(
        rule.Kind.EXIT, {"status": "terminated", "enrolled_to": D(2025, 8, 31)})
    late_start = rule.decide(held(enrolled_from=D(2025, 9, 1)), None, LATER)
    assert late_start.values["enrolled_to"] == D(2025, 9, 1)
    assert rule.decide(held(status="suspended"), None, LATER).kind == rule.Kind.EXIT
    assert rule.decide(held(status="terminated", enrolled_to=D(2025, 3, 31)), None, LATER).kind == rule.Kind.UNCHANGED


def test_a_person_takes_the_lists_name_and_a_given_person_number_only():
    assert rule.person_changes("张三", "P1", "张三", None) == {}
    assert rule.person_changes("张三", "P1", "张三", "P1") == {}
    assert rule.person_changes("张三", "P1", "张叁", None) == {"name": "张叁", "psn_no": "P1"}
    assert rule.person_changes("张三", None, "张三", "P2") == {"name": "张三", "psn_no": "P2"}


# --- both paths on the same lists ----------------------------------------------------------

AREA, OTHER_AREA = "150502", "150581"


def first_list() -> list[dict]:
    return [
        person_row(1),                                                # unchanged
        person_row(2),                                                # employment changes
        person_row(3),                                                # category changes (特困)
        person_row(4),                                                # area changes
        person_row(5),                                                # exits (not on the later list)
        person_row(6, status="4", enddate="2025-05-31"),              # back after a gap
        person_row(7, status="4", enddate="2025-08-31"),              # back the day after the exit
        person_row(9),                                                # new name, new person number
        person_row(10),                                               # suspended
        person_row(11),                                               # given an end
        person_row(12, area=OTHER_AREA),                              # area not on the later list: stays
        person_row(13),                                               # rejected on the later list: stays
        person_row(14, status="4", enddate="2025-03-31"),             # exited and missing: stays exited
        person_row(15, begndate="2025-09-05"),                        # exits, never before its start
        person_row(16, status="2"),                                   # suspended, resumes
    ]


def later_list() -> list[dict]:
    return [
        person_row(1),
        person_row(2, emp_type="退休"),
        person_row(3, psn_type="特困"),
        person_row(4, admdvs="150523"),
        person_row(6),
        person_row(7),
        person_row(8),                                                # a new person
        person_row(9, name="李四", psn_no="PNEW9"),
        person_row(10, status="2"),
        person_row(11, enddate="2025-11-30"),
        person_row(13, gend="9"),                                     # rejected: unknown sex code
        person_row(16),
    ]


def orm_apply(contract: Contract, rows: list[dict], effective_date: dt.date, *, full_list: bool = True) -> None:
    """A list through the ORM path: each valid row, then the exits."""
    areas = {a.code: a.pk for a in Area.objects.filter(code__in={r["admdvs"] for r in rows})}
    ctx = RowContext(area_ids=areas, scope=None, period_start=contract.period_start, period_end=contract.period_end,
                     effective_date=effective_date, today=D(2026, 1, 1))
    texts = reasons()
    named, listed_areas = set(), set()
    for values in rows:
        named.add(normalize_certno(values["certno"]))
        reason, row = check_row(tuple(values.get(f, "") for f in FIELDS), ctx, texts)
        if row is not None:
            services.enrollment_list_row_apply(contract=contract, row=row, effective_date=effective_date)
            listed_areas.add(row.area_id)
    if full_list:
        services.enrollment_list_exits_apply(contract=contract, listed_certnos=named, area_ids=listed_areas,
                                             effective_date=effective_date)


def registry_state(contract: Contract) -> dict:
    """Every person with the contract's enrollment and its periods, by ID number."""
    state = {}
    for person in InsuredPerson.objects.all():
        enrollment = Enrollment.objects.filter(person=person, contract=contract).exclude(status="cancelled").first()
        periods = sorted(
            EnrollmentPeriod.objects.filter(enrollment=enrollment).values_list(
                "area__code", "category", "category_detail", "employment", "status", "valid_from", "valid_to")
        ) if enrollment else []
        state[person.certno] = (
            person.name, person.psn_no, person.sex, person.birth_date,
            None if enrollment is None else (
                enrollment.area.code, enrollment.category, enrollment.category_detail, enrollment.employment,
                enrollment.health, enrollment.status, enrollment.source, enrollment.enrolled_from,
                enrollment.enrolled_to, enrollment.attributes_from or enrollment.enrolled_from),
            periods,
        )
    return state


def registry_empty() -> None:
    EnrollmentPeriod.objects.all().delete()
    Enrollment.objects.all().delete()
    InsuredPerson.objects.all().delete()


@pytest.mark.parametrize("bulk_first_load", [False, True], ids=["rows-first-load", "bulk-first-load"])
def test_the_orm_and_the_bulk_path_leave_the_same_registry(db, settings, bulk_first_load):
    if bulk_first_load:
        settings.REGISTRY_BULK_MIN_ROWS = 2  # the first list through IndexRebuild on PostgreSQL
    user = UserFactory(username="root", is_superuser=True)
    contract = Contract.objects.get(code="tongliao-2025")

    first = run_import(user, csv_bytes(first_list()), effective_date=FIRST)
    later = run_import(user, csv_bytes(later_list()), effective_date=LATER)
    by_sql = registry_state(contract)
    registry_empty()
    orm_apply(contract, first_list(), FIRST)
    orm_apply(contract, later_list(), LATER)
    by_orm = registry_state(contract)

    assert (first.rows_added, first.rows_rejected) == (15, 0)
    assert (later.rows_added, later.rows_changed, later.rows_exited, later.rows_unchanged, later.rows_rejected) == (
        1, 8, 2, 2, 1)
    assert by_orm == by_sql
    # and what they agree on is the rule
    cert = {seq: normalize_certno(person_row(seq, area=OTHER_AREA if seq == 12 else AREA)["certno"])
            for seq in range(1, 17)}
    after = {seq: by_sql[c] for seq, c in cert.items()}
    assert after[1][4][5:] == ("active", "group", FIRST, None, FIRST) and after[1][5] == []
    assert after[2][4][3] == "retired" and after[2][4][9] == LATER
    assert after[2][5] == [(AREA, "ordinary", "", "active", "active", FIRST, D(2025, 8, 31))]
    assert after[3][4][1:3] == ("special", "特困")
    assert after[4][4][0] == "150523" and after[4][5][0][0] == AREA
    assert after[5][4][5] == "terminated" and after[5][4][8] == D(2025, 8, 31)
    assert [p[4:] for p in after[6][5]] == [("active", FIRST, D(2025, 5, 31)),
                                             ("exited", D(2025, 6, 1), D(2025, 8, 31))]
    assert after[6][4][5] == "active" and after[6][4][8] is None and after[6][4][9] == LATER
    assert after[7][4][5] == "active" and after[7][5] == []
    assert after[8][4][5] == "active" and after[8][5] == []
    assert after[9][:2] == ("李四", "PNEW9")
    assert after[10][4][5] == "suspended" and after[10][5][0][4] == "active"
    assert after[11][4][8] == D(2025, 11, 30) and after[11][5] == []
    assert after[12][4][5] == "active" and after[13][4][5] == "active"
    assert after[14][4][5:] == ("terminated", "group", FIRST, D(2025, 3, 31), FIRST)
    assert after[15][4][5] == "terminated" and after[15][4][8] == D(2025, 9, 5)
    assert after[16][4][5] == "active" and [p[4:] for p in after[16][5]] == [("suspended", FIRST, D(2025, 8, 31))]

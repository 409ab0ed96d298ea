"""Enrollment list import: reading, row checks, confirmation, atomic application.

These run on whichever database the suite uses (CSV blocks staged by executemany on SQLite, by
COPY on PostgreSQL, DATABASE_URL) — the same expectations hold for both.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from programs import services
from programs.coverage import coverage_on
from programs.models import (
    Enrollment,
    EnrollmentPeriod,
    ImportBatch,
    InsuredPerson,
    SmsNotification,
)
from programs.registry import bulk
from tests.conftest import require_or_skip
from tests.factories import UserFactory
from tests.programs.registry_helpers import csv_bytes, person_row, run_import, upload, xlsx_bytes


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_superuser=True)


def category_on(person, contract, day):
    """The person's category on `day` as the coverage rule answers it; None: not covered."""
    coverage = coverage_on(person=person, contract=contract, on=day)
    return coverage.category if coverage.covered else None


def rejected_reasons(batch) -> dict[int, str]:
    import csv
    import io

    if not batch.rejected_file:
        return {}
    text = batch.rejected_file.open("rb").read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "行号" and rows[0][-1] == "原因"
    return {int(r[0]): r[-1] for r in rows[1:]}


def test_gbk_csv_is_imported_with_chinese_names(admin_user):
    rows = [person_row(1, name="包宝山"), person_row(2, name="白其其格", psn_type="特困", emp_type="退休")]
    batch = run_import(admin_user, csv_bytes(rows, encoding="gbk"))
    assert batch.status == ImportBatch.Status.DONE
    assert batch.encoding == "gb18030"
    assert (batch.rows_read, batch.rows_valid, batch.rows_rejected, batch.rows_added) == (2, 2, 0, 2)
    person = InsuredPerson.objects.get(certno=rows[1]["certno"])
    assert person.name == "白其其格"
    assert person.birth_date == dt.date(1980, 3, 1)
    e = person.enrollments.get()
    assert (e.category, e.category_detail, e.employment, e.status, e.enrolled_from) == (
        "special", "特困", "retired", "active", dt.date(2025, 1, 1))


def test_utf8_with_bom_is_read_as_utf8(admin_user):
    batch = run_import(admin_user, csv_bytes([person_row(3, name="乌云")], encoding="utf-8", bom=True))
    assert batch.status == ImportBatch.Status.DONE and batch.encoding == "utf-8-sig"
    assert InsuredPerson.objects.get().name == "乌云"


def test_xlsx_is_imported(admin_user):
    batch = run_import(admin_user, xlsx_bytes([person_row(4, name="斯琴"), person_row(5)]), name="list.xlsx")
    assert batch.status == ImportBatch.Status.DONE
    assert batch.rows_added == 2
    assert InsuredPerson.objects.filter(name="斯琴").exists()


def test_missing_column_refuses_the_file_and_writes_nothing(admin_user, tmp_path):
    header = [h for h in ("psn_no", "certno", "psn_name", "brdy", "admdvs")]  # no gend
    with pytest.raises(ValidationError) as exc:
        upload(admin_user, csv_bytes([person_row(1)], header=header))
    assert "gend" in " ".join(exc.value.messages)
    assert "缺少必需的列" in " ".join(exc.value.messages)
    assert ImportBatch.objects.count() == 0
    assert InsuredPerson.objects.count() == 0
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_row_errors_are_reported_with_chinese_reasons_and_only_valid_rows_applied(admin_user):
    good = person_row(1)
    bad_check = person_row(2)
    bad_check["certno"] = bad_check["certno"][:17] + ("0" if bad_check["certno"][17] != "0" else "1")
    future = person_row(3, brdy="2031-02-03")
    duplicate = dict(good)
    unknown_area = person_row(4, admdvs="150599")
    wrong_sex = person_row(5)
    wrong_sex["gend"] = "2" if wrong_sex["gend"] == "1" else "1"
    rows = [good, bad_check, future, duplicate, unknown_area, wrong_sex, person_row(6)]
    batch = upload(admin_user, csv_bytes(rows))
    batch = services.import_batch_validate(batch_id=batch.pk)
    assert batch.status == ImportBatch.Status.VALIDATED
    assert (batch.rows_read, batch.rows_valid, batch.rows_rejected) == (7, 2, 5)
    # Nothing is written before the user confirms.
    assert InsuredPerson.objects.count() == 0
    reasons = rejected_reasons(batch)
    assert reasons[3] == "身份证号校验位错误。"  # never the right digit: it would make a guessed ID valid
    assert reasons[4] == "出生日期2031-02-03晚于今天。"
    assert reasons[5] == "与本文件第2行重复。"
    assert reasons[6] == "区划150599不属于本合同。"
    assert reasons[7] == f"性别代码{wrong_sex['gend']}与身份证号码不一致。"
    services.import_batch_confirm(batch=batch, user=admin_user)
    services.import_batch_apply(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE
    assert batch.rows_added == 2
    assert set(InsuredPerson.objects.values_list("certno", flat=True)) == {good["certno"], rows[6]["certno"]}


def test_birth_date_in_the_future_inside_the_id_number_is_rejected(admin_user):
    row = person_row(7, birth=dt.date(2030, 1, 1))
    batch = services.import_batch_validate(batch_id=upload(admin_user, csv_bytes([row, person_row(8)])).pk)
    assert rejected_reasons(batch) == {2: "身份证号码中的出生日期20300101晚于今天。"}


def test_reimporting_the_same_list_changes_nothing(admin_user):
    rows = [person_row(i) for i in range(1, 6)]
    run_import(admin_user, csv_bytes(rows))
    before = list(Enrollment.objects.order_by("pk").values())
    again = run_import(admin_user, csv_bytes(rows), effective_date=dt.date(2025, 7, 1))
    assert (again.rows_added, again.rows_changed, again.rows_exited, again.rows_unchanged) == (0, 0, 0, 5)
    assert list(Enrollment.objects.order_by("pk").values()) == before
    assert EnrollmentPeriod.objects.count() == 0
    assert InsuredPerson.objects.count() == 5


def test_later_list_records_dated_changes_additions_and_exits(admin_user):
    from programs.selectors import headcount_by_area_category

    rows = [person_row(i) for i in range(1, 5)]
    run_import(admin_user, csv_bytes(rows))
    later = [
        person_row(1, psn_type="低保"),           # category change
        person_row(2, admdvs="150523"),           # moved to 开鲁县
        person_row(3),                            # unchanged
        person_row(9),                            # new
    ]                                             # person 4 left
    batch = run_import(admin_user, csv_bytes(later), effective_date=dt.date(2025, 6, 1))
    assert (batch.rows_added, batch.rows_changed, batch.rows_exited, batch.rows_unchanged) == (1, 2, 1, 1)
    contract = batch.contract
    p1 = InsuredPerson.objects.get(certno=rows[0]["certno"])
    assert category_on(p1, contract, dt.date(2025, 5, 31)) == "ordinary"
    assert category_on(p1, contract, dt.date(2025, 6, 1)) == "special"
    period = EnrollmentPeriod.objects.get(enrollment__person=p1)
    assert (period.valid_from, period.valid_to, period.category) == (dt.date(2025, 1, 1), dt.date(2025, 5, 31), "ordinary")
    p4 = InsuredPerson.objects.get(certno=rows[3]["certno"])
    e4 = p4.enrollments.get()
    assert (e4.status, e4.enrolled_to) == ("terminated", dt.date(2025, 5, 31))
    from programs.models import Area

    horqin, kailu = Area.objects.get(code="150502").pk, Area.objects.get(code="150523").pk
    assert headcount_by_area_category(contract=contract, on=dt.date(2025, 4, 30)) == {(horqin, "ordinary"): 4}
    assert headcount_by_area_category(contract=contract, on=dt.date(2025, 6, 1)) == {
        (horqin, "ordinary"): 2, (horqin, "special"): 1, (kailu, "ordinary"): 1,
    }


def test_later_list_renames_and_renumbers_without_a_change_and_a_rejected_row_is_no_exit(admin_user):
    rows = [person_row(i) for i in range(1, 6)]
    run_import(admin_user, csv_bytes(rows))
    enrollments = list(Enrollment.objects.order_by("pk").values())
    later = [
        person_row(1, name="张三丰"),              # renamed: the person changes, the enrollment does not
        person_row(2, psn_no="P150502999999"),    # another psn_no
        person_row(3, gend="9"),                  # rejected (unknown sex code), still on the list
        person_row(4),                            # unchanged
        person_row(5, enddate="2025-08-31"),      # an end date: a change
    ]
    batch = run_import(admin_user, csv_bytes(later), effective_date=dt.date(2025, 6, 1))
    assert (batch.rows_valid, batch.rows_rejected) == (4, 1), rejected_reasons(batch)
    assert (batch.rows_added, batch.rows_changed, batch.rows_exited, batch.rows_unchanged) == (0, 1, 0, 3)
    assert InsuredPerson.objects.get(certno=rows[0]["certno"]).name == "张三丰"
    assert InsuredPerson.objects.get(certno=rows[1]["certno"]).psn_no == "P150502999999"
    after = {e["id"]: e for e in Enrollment.objects.values()}
    for before in enrollments:
        if before["person_id"] != InsuredPerson.objects.get(certno=rows[4]["certno"]).pk:
            assert after[before["id"]] == before  # the rejected row's person is not an exit
    e5 = Enrollment.objects.get(person__certno=rows[4]["certno"])
    assert (e5.status, e5.enrolled_to) == ("active", dt.date(2025, 8, 31))
    assert EnrollmentPeriod.objects.count() == 0


def _exit_and_return_expectations(contract, certno):
    from programs.models import Area
    from programs.selectors import headcount_by_area_category

    person = InsuredPerson.objects.get(certno=certno)
    horqin = Area.objects.get(code="150502").pk
    assert [(p.valid_from, p.valid_to, p.status, p.category) for p in EnrollmentPeriod.objects.order_by("valid_from")] == [
        (dt.date(2025, 1, 1), dt.date(2025, 5, 31), "active", "ordinary"),
        (dt.date(2025, 6, 1), dt.date(2025, 8, 31), "exited", "ordinary"),
    ]
    e = person.enrollments.get()
    assert (e.status, e.enrolled_to, e.attributes_from, e.category) == ("active", None, dt.date(2025, 9, 1), "special")
    assert category_on(person, contract, dt.date(2025, 4, 1)) == "ordinary"
    assert category_on(person, contract, dt.date(2025, 7, 1)) is None
    assert category_on(person, contract, dt.date(2025, 9, 1)) == "special"
    assert headcount_by_area_category(contract=contract, on=dt.date(2025, 4, 1)) == {(horqin, "ordinary"): 2}
    assert headcount_by_area_category(contract=contract, on=dt.date(2025, 7, 1)) == {(horqin, "ordinary"): 1}
    assert headcount_by_area_category(contract=contract, on=dt.date(2025, 9, 1)) == {
        (horqin, "ordinary"): 1, (horqin, "special"): 1}


def test_a_person_back_on_a_later_list_after_an_exit_keeps_the_gap(admin_user):
    run_import(admin_user, csv_bytes([person_row(1), person_row(2)]))
    exited = run_import(admin_user, csv_bytes([person_row(1)]), effective_date=dt.date(2025, 6, 1))
    assert exited.rows_exited == 1
    back = run_import(admin_user, csv_bytes([person_row(1), person_row(2, psn_type="低保")]),
                      effective_date=dt.date(2025, 9, 1))
    assert (back.rows_added, back.rows_changed, back.rows_exited, back.rows_unchanged) == (0, 1, 0, 1)
    _exit_and_return_expectations(back.contract, person_row(2)["certno"])


def test_a_return_through_the_small_list_path_keeps_the_gap_too(admin_user):
    from programs.models import Area
    from programs.registry.files import FIELDS
    from programs.registry.rows import RowContext, check_row, reasons

    run_import(admin_user, csv_bytes([person_row(1), person_row(2)]))
    exited = run_import(admin_user, csv_bytes([person_row(1)]), effective_date=dt.date(2025, 6, 1))
    contract = exited.contract
    ctx = RowContext(area_ids={"150502": Area.objects.get(code="150502").pk}, scope=None,
                     period_start=contract.period_start, period_end=contract.period_end,
                     effective_date=dt.date(2025, 9, 1), today=dt.date(2026, 1, 1))
    values = person_row(2, psn_type="低保")
    reason, row = check_row(tuple(values[f] for f in FIELDS), ctx, reasons())
    assert reason is None
    kind, _ = services.enrollment_list_row_apply(contract=contract, row=row, effective_date=dt.date(2025, 9, 1))
    assert kind == "update"
    _exit_and_return_expectations(contract, values["certno"])


def test_back_the_day_after_the_exit_leaves_no_gap(admin_user):
    run_import(admin_user, csv_bytes([person_row(1), person_row(2)]))
    run_import(admin_user, csv_bytes([person_row(1)]), effective_date=dt.date(2025, 6, 1))  # to 2025-05-31
    back = run_import(admin_user, csv_bytes([person_row(1), person_row(2)]), effective_date=dt.date(2025, 6, 1))
    assert back.rows_changed == 1 and EnrollmentPeriod.objects.count() == 0
    e = InsuredPerson.objects.get(certno=person_row(2)["certno"]).enrollments.get()
    assert (e.status, e.enrolled_to) == ("active", None)


def test_crash_in_the_middle_of_applying_leaves_the_registry_unchanged(admin_user, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    run_import(admin_user, csv_bytes([person_row(i) for i in range(1, 4)]))
    persons = list(InsuredPerson.objects.order_by("pk").values())
    enrollments = list(Enrollment.objects.order_by("pk").values())
    later = [person_row(1, psn_type="特困"), person_row(2), person_row(20), person_row(21)]
    batch = upload(admin_user, csv_bytes(later), effective_date=dt.date(2025, 6, 1))
    batch = services.import_batch_validate(batch_id=batch.pk)
    services.import_batch_confirm(batch=batch, user=admin_user)

    def crash(name):
        if name == "changes":  # persons and new enrollments are written by now
            raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "_apply_step", crash)
    with pytest.raises(RuntimeError):
        services.import_batch_apply(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "登记册未改变" in batch.error
    assert list(InsuredPerson.objects.order_by("pk").values()) == persons
    assert list(Enrollment.objects.order_by("pk").values()) == enrollments
    assert EnrollmentPeriod.objects.count() == 0
    # Restartable: the checked rows are still staged.
    monkeypatch.setattr(services, "_apply_step", lambda name: None)
    services.import_batch_retry(batch=batch, user=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.import_batch_apply(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE
    assert (batch.rows_added, batch.rows_changed, batch.rows_exited) == (2, 1, 1)
    assert not bulk.stage_exists(batch.pk)


def test_a_redelivered_task_does_not_apply_twice(admin_user):
    batch = upload(admin_user, csv_bytes([person_row(1)]))
    assert services.import_batch_validate(batch_id=batch.pk).status == "validated"
    assert services.import_batch_validate(batch_id=batch.pk) is None  # already claimed/done
    services.import_batch_confirm(batch=batch, user=admin_user)
    assert services.import_batch_apply(batch_id=batch.pk).status == "done"
    assert services.import_batch_apply(batch_id=batch.pk) is None
    assert Enrollment.objects.count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_postgres_fast_path_crash_leaves_registry_unchanged(seeded, monkeypatch, settings, tmp_path):
    """PostgreSQL: checked blocks go into UNLOGGED stage tables by COPY; a crash mid-apply rolls back."""
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    settings.MEDIA_ROOT = tmp_path
    user = UserFactory(username="pgroot", is_superuser=True)
    bad = person_row(2)
    bad["certno"] = bad["certno"][:17] + ("0" if bad["certno"][17] != "0" else "1")
    batch = upload(user, csv_bytes([person_row(1, name="包宝山"), bad, person_row(3, brdy="2031-02-03")]))
    seen = []
    monkeypatch.setattr("programs.registry.bulk.load", _spy(seen, "programs.registry.bulk.load"))
    batch = services.import_batch_validate(batch_id=batch.pk)
    assert seen == ["called"]
    with connection.cursor() as cur:
        cur.execute("SELECT relname, relpersistence FROM pg_class WHERE relname LIKE %s ORDER BY 1",
                    [f"registry_%_{batch.pk}"])
        assert cur.fetchall() == [(f"registry_rejected_{batch.pk}", "u"), (f"registry_stage_{batch.pk}", "u")]
    assert (batch.rows_valid, batch.rows_rejected) == (1, 2)
    assert rejected_reasons(batch)[4] == "出生日期2031-02-03晚于今天。"
    services.import_batch_confirm(batch=batch, user=user)
    monkeypatch.setattr(services, "_apply_step", _raise_at("exits"))
    with pytest.raises(RuntimeError):
        services.import_batch_apply(batch_id=batch.pk)
    assert InsuredPerson.objects.count() == 0 and Enrollment.objects.count() == 0
    assert ImportBatch.objects.get(pk=batch.pk).status == "failed"
    monkeypatch.setattr(services, "_apply_step", lambda name: None)
    services.import_batch_retry(batch=batch, user=user)
    assert services.import_batch_apply(batch_id=batch.pk).status == "done"
    assert InsuredPerson.objects.get().name == "包宝山"
    services.bulk.drop_tables(batch.pk)


def _spy(seen, target):
    import importlib

    module_name, _, attr = target.rpartition(".")
    original = getattr(importlib.import_module(module_name), attr)

    def wrapper(**kwargs):
        seen.append("called")
        return original(**kwargs)

    return wrapper


def _registry_schema():
    with connection.cursor() as cur:
        return bulk.IndexRebuild(cur, (bulk.P, bulk.E), lambda name: None).definitions()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_postgres_bulk_first_load_rebuilds_indexes_and_keys_exactly(seeded, monkeypatch, settings, tmp_path):
    """A first list at least as big as the registry: indexes, unique constraints and foreign
    keys are dropped and re-created in the application's transaction. The schema afterwards is
    the schema before, the keys hold, and a crash while re-building leaves everything as it was."""
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    settings.MEDIA_ROOT = tmp_path
    settings.REGISTRY_BULK_MIN_ROWS = 2
    user = UserFactory(username="bulkroot", is_superuser=True)
    before = _registry_schema()
    assert {n for _, n, _ in before["primary"]} == {"programs_insuredperson_pkey", "programs_enrollment_pkey"}
    assert {n for _, n, _ in before["unique"]} >= {"person_certno_unique"}
    assert {n for n, _ in before["indexes"]} >= {"person_psn_no_unique", "enrollment_one_per_person_contract"}
    # From the enrollments (to person, contract, area, superseding enrollment) and to the
    # registry from the claims, SMS, period and identity-access tables, the member services
    # and phone reports (claims) and the complaints (complainant and the person complained about).
    assert {t for t, _, _ in before["foreign"]} == {
        "programs_enrollment", "claims_claim", "claims_settlement", "claims_calculation", "claims_accumulator",
        "programs_smsnotification", "programs_enrollmentperiod", "programs_identityaccess",
        "claims_entitlementuse", "claims_claimreport", "complaints_complaint",
    }
    assert len(before["foreign"]) == 16
    steps = []

    def crash_while_rebuilding(name):
        steps.append(name)
        if name == "indexes":
            raise RuntimeError("worker killed")

    batch = upload(user, csv_bytes([person_row(i) for i in range(1, 4)]))
    batch = services.import_batch_validate(batch_id=batch.pk)
    services.import_batch_confirm(batch=batch, user=user)
    monkeypatch.setattr(services, "_apply_step", crash_while_rebuilding)
    with pytest.raises(RuntimeError):
        services.import_batch_apply(batch_id=batch.pk)
    assert steps == ["persons", "matching", "enrollments", "changes", "exits", "indexes"]
    assert (InsuredPerson.objects.count(), Enrollment.objects.count()) == (0, 0)
    assert _registry_schema() == before

    steps.clear()
    monkeypatch.setattr(services, "_apply_step", steps.append)
    services.import_batch_retry(batch=batch, user=user)
    assert services.import_batch_apply(batch_id=batch.pk).status == "done"
    assert steps[-1] == "indexes"
    assert _registry_schema() == before
    assert Enrollment.objects.filter(contract=batch.contract).count() == 3
    # Ids came from reserved blocks of both sequences: the next rows get ids after them.
    person = InsuredPerson.objects.create(certno=person_row(9)["certno"], name="新人", sex="1",
                                          birth_date=dt.date(1980, 3, 1))
    assert person.pk > max(InsuredPerson.objects.exclude(pk=person.pk).values_list("pk", flat=True))
    later = Enrollment.objects.create(person=person, contract=batch.contract, area=Enrollment.objects.first().area,
                                      enrolled_from=dt.date(2025, 1, 1))
    assert later.pk > max(Enrollment.objects.exclude(pk=later.pk).values_list("pk", flat=True))
    # The re-created constraints are enforced again.
    person = InsuredPerson.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        InsuredPerson.objects.create(certno=person.certno, name="重复", sex=person.sex, birth_date=person.birth_date)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute(f"UPDATE {bulk.E} SET person_id = -1 WHERE id = %s", [Enrollment.objects.first().pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:  # the primary key
        cur.execute(f"INSERT INTO {bulk.P} (id, certno, name, sex, birth_date, phone)"
                    f" SELECT id, '9' || substr(certno, 2), name, sex, birth_date, phone FROM {bulk.P} LIMIT 1")
    services.bulk.drop_tables(batch.pk)


def _raise_at(step):
    def hook(name):
        if name == step:
            raise RuntimeError("worker killed")

    return hook


def test_ragged_line_refuses_the_whole_file_at_validation(admin_user):
    data = csv_bytes([person_row(1), person_row(2)]) + "1,2,3,4,5,6,7,8,9,10,11,12\r\n".encode("gbk")
    batch = services.import_batch_validate(batch_id=upload(admin_user, data).pk)
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error
    assert InsuredPerson.objects.count() == 0
    assert not bulk.stage_exists(batch.pk)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bulk_min_rows", [1, 100_000], ids=["indexes-rebuilt", "row-by-row"])
def test_postgres_first_list_of_a_second_contract_keeps_known_persons(seeded, settings, tmp_path, bulk_min_rows):
    """A first list for a contract whose persons are partly in the registry already (another
    contract's list): known persons keep their id and row, new ones are added, once each —
    whether the list is big enough to rebuild the indexes or not."""
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    from programs.models import Contract

    settings.MEDIA_ROOT = tmp_path
    settings.REGISTRY_BULK_MIN_ROWS = bulk_min_rows
    user = UserFactory(username="secondroot", is_superuser=True)
    first = run_import(user, csv_bytes([person_row(1), person_row(2)]))
    assert first.status == "done"
    known = InsuredPerson.objects.get(certno=person_row(1)["certno"])
    # A row pointing at the registry: its keys are dropped and re-added with the indexes.
    sms = SmsNotification.objects.create(key="k1", person=known, enrollment=known.enrollments.get(), message="m")
    other = Contract.objects.get(pk=first.contract_id)  # the same counties, another contract
    other.pk = other.id = None
    other.code, other.year = "tongliao-2026", other.year + 1
    other.period_start = other.period_start.replace(year=other.period_start.year + 1)
    other.period_end = other.period_end.replace(year=other.period_end.year + 1)
    other.save()
    second = run_import(user, csv_bytes([person_row(1, name="张三丰"), person_row(3)]), contract=other,
                        effective_date=other.period_start)
    assert second.status == "done" and second.rows_added == 2
    assert InsuredPerson.objects.count() == 3
    new = InsuredPerson.objects.get(certno=person_row(3)["certno"])
    assert new.enrollments.get().contract_id == other.pk and new.name == "张三"
    known.refresh_from_db()
    assert known.name == "张三丰"
    assert set(known.enrollments.values_list("contract_id", flat=True)) == {first.contract_id, other.pk}
    sms.refresh_from_db()
    assert (sms.person_id, sms.enrollment.person_id) == (known.pk, known.pk)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("UPDATE programs_smsnotification SET person_id = -1 WHERE id = %s", [sms.pk])
    services.bulk.drop_tables(first.pk)
    services.bulk.drop_tables(second.pk)


def test_a_person_number_on_two_id_numbers_keeps_the_first_line(admin_user):
    """Duplicates are grouped by ID number first, then by person number among the rows still
    valid: the first line of each group stands and its raw values stay in the report."""
    rows = [person_row(1, psn_no="P1"), person_row(2, psn_no="P1"), person_row(3, psn_no="P3"),
            person_row(3, psn_no="P3"), person_row(4, psn_no="P1")]
    batch = services.import_batch_validate(batch_id=upload(admin_user, csv_bytes(rows)).pk)
    assert (batch.rows_read, batch.rows_valid, batch.rows_rejected) == (5, 2, 3)
    reasons = rejected_reasons(batch)
    assert reasons == {
        3: "人员编号P1已在第2行用于另一身份证号码。",
        5: "与本文件第4行重复。",
        6: "人员编号P1已在第2行用于另一身份证号码。",
    }
    text = batch.rejected_file.open("rb").read().decode("utf-8-sig")
    assert rows[1]["certno"] in text and rows[4]["certno"] in text


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_postgres_one_name_index_serves_prefix_search_and_order(seeded):
    """Migration 0008: ID number, person number and name compare byte by byte, so the plain
    name index serves `name__startswith` at the window (no pattern-ops twin any more)."""
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT attname, collname FROM pg_attribute JOIN pg_collation c ON c.oid = attcollation "
            "WHERE attrelid = 'programs_insuredperson'::regclass AND attname IN ('certno', 'psn_no', 'name') "
            "ORDER BY attname"
        )
        assert cur.fetchall() == [("certno", "C"), ("name", "C"), ("psn_no", "C")]
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'programs_insuredperson' ORDER BY 1")
        assert [r[0] for r in cur.fetchall()] == [
            "person_certno_unique", "person_psn_no_unique", "programs_insuredperson_name_1f6b7705",
            "programs_insuredperson_pkey",
        ]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        sql, params = InsuredPerson.objects.filter(name__startswith="包").order_by("name").query.sql_with_params()
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "programs_insuredperson_name_1f6b7705" in plan and "Sort" not in plan, plan


def test_nightly_clean_up_drops_only_stages_nobody_will_use(admin_user, django_capture_on_commit_callbacks):
    """Unconfirmed for a week: closed as failed, stage dropped. A recent unconfirmed list and
    a recent failure (restartable) keep theirs; a finished batch's and an orphan table go."""
    import datetime as _dt

    from django.conf import settings
    from django.utils import timezone

    from programs.tasks import import_stages_clean_task

    assert settings.CELERY_BEAT_SCHEDULE["registry-stages-clean"]["task"] == "programs.tasks.import_stages_clean_task"
    old = services.import_batch_validate(batch_id=upload(admin_user, csv_bytes([person_row(1)])).pk)
    recent = services.import_batch_validate(batch_id=upload(admin_user, csv_bytes([person_row(2)])).pk)
    failed = services.import_batch_validate(batch_id=upload(admin_user, csv_bytes([person_row(3)])).pk)
    ImportBatch.objects.filter(pk=failed.pk).update(status="failed", finished_at=timezone.now(), error="x")
    week_ago = timezone.now() - _dt.timedelta(days=8)
    ImportBatch.objects.filter(pk=old.pk).update(validated_at=week_ago)
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE registry_stage_999999 (line_no integer)")
    assert {old.pk, recent.pk, failed.pk, 999999} <= bulk.staged_batch_ids()

    assert import_stages_clean_task() == [old.pk, 999999]
    assert bulk.staged_batch_ids() >= {recent.pk, failed.pk}
    assert not bulk.stage_exists(old.pk) and old.pk not in bulk.staged_batch_ids()
    old.refresh_from_db()
    assert old.status == "failed"
    assert old.error == "7天内未确认：已检查的行已丢弃。请重新上传名单。"
    with pytest.raises(ValidationError):
        services.import_batch_confirm(batch=old, user=admin_user)
    # A week after the failure the restartable stage goes too; the retry then says why not.
    ImportBatch.objects.filter(pk=failed.pk).update(finished_at=week_ago, confirmed_at=week_ago, validated_at=week_ago)
    assert import_stages_clean_task() == [failed.pk]
    with pytest.raises(ValidationError, match="无法重新启动"):
        services.import_batch_retry(batch=ImportBatch.objects.get(pk=failed.pk), user=admin_user)


def test_the_person_page_shows_the_earlier_states_and_the_gap(admin_user, client):
    from django.urls import reverse

    run_import(admin_user, csv_bytes([person_row(1), person_row(2)]))
    run_import(admin_user, csv_bytes([person_row(1)]), effective_date=dt.date(2025, 6, 1))
    run_import(admin_user, csv_bytes([person_row(1), person_row(2, psn_type="低保")]), effective_date=dt.date(2025, 9, 1))
    client.force_login(admin_user)
    returned = InsuredPerson.objects.get(certno=person_row(2)["certno"])
    body = client.get(reverse("person_detail", args=[returned.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "参保变动记录" in body
    rows = [" ".join(r.split()) for r in body.split("参保变动记录")[1].split("<tr")[2:]]
    assert "2025-01-01</td><td>2025-05-31" in rows[0].replace("</td> <td>", "</td><td>") and "普通人员" in rows[0]
    assert "2025-06-01</td><td>2025-08-31" in rows[1].replace("</td> <td>", "</td><td>") and "终止参保" in rows[1]
    assert len(rows) == 2
    unchanged = InsuredPerson.objects.get(certno=person_row(1)["certno"])
    assert "参保变动记录" not in client.get(reverse("person_detail", args=[unchanged.pk])).content.decode()


def _second_connection():
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(host=s["HOST"] or None, port=s["PORT"] or None, user=s["USER"] or None,
                           password=s["PASSWORD"] or None, dbname=s["NAME"], autocommit=True)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("may_skip", [True, False], ids=["keys-kept", "keys-rebuilt"])
def test_postgres_bulk_first_load_leaves_areas_readable_and_still_checks_their_keys(
        seeded, monkeypatch, settings, tmp_path, may_skip):
    """Where the role may set session_replication_role, the keys to areas and contracts stay
    in place (dropping one locks the table it points at, which nearly every page reads) and
    one anti-join checks them; otherwise they are re-built and areas wait. Either way a row
    pointing at no area stops the application and leaves the registry as it was."""
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    settings.MEDIA_ROOT = tmp_path
    settings.REGISTRY_BULK_MIN_ROWS = 2
    monkeypatch.setattr(bulk.IndexRebuild, "_may_skip_key_checks", lambda self: may_skip)
    user = UserFactory(username="arearoot", is_superuser=True)
    before = _registry_schema()
    batch = upload(user, csv_bytes([person_row(i) for i in range(1, 4)]))
    batch = services.import_batch_validate(batch_id=batch.pk)
    services.import_batch_confirm(batch=batch, user=user)
    readable = []

    def look_at_areas(name):
        if name == "indexes":
            with _second_connection() as other:
                other.execute("SET lock_timeout = '1s'")
                try:
                    readable.append(other.execute("SELECT COUNT(*) FROM programs_area").fetchone()[0] > 0)
                except psycopg_errors().LockNotAvailable:
                    readable.append(False)

    monkeypatch.setattr(services, "_apply_step", look_at_areas)
    assert services.import_batch_apply(batch_id=batch.pk).status == "done"
    assert readable == [may_skip]
    assert _registry_schema() == before
    assert Enrollment.objects.filter(contract=batch.contract).count() == 3

    # A staged row whose area is gone by the time it is applied: refused, nothing written.
    other = _other_contract(batch)
    second = upload(user, csv_bytes([person_row(i) for i in range(4, 7)]), contract=other,
                    effective_date=other.period_start)
    second = services.import_batch_validate(batch_id=second.pk)
    services.import_batch_confirm(batch=second, user=user)
    Enrollment.objects.all().delete()
    InsuredPerson.objects.all().delete()
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {bulk.stage_table(second.pk)} SET area_id = -5 WHERE line_no = 3")
    monkeypatch.setattr(services, "_apply_step", lambda name: None)
    with pytest.raises(IntegrityError, match="programs_enrollment_area_id"):
        services.import_batch_apply(batch_id=second.pk)
    assert (InsuredPerson.objects.count(), Enrollment.objects.count()) == (0, 0)
    assert _registry_schema() == before
    assert ImportBatch.objects.get(pk=second.pk).status == "failed"
    services.bulk.drop_tables(batch.pk)
    services.bulk.drop_tables(second.pk)


def psycopg_errors():
    import psycopg.errors

    return psycopg.errors


def _other_contract(batch):
    from programs.models import Contract

    other = Contract.objects.get(pk=batch.contract_id)
    other.pk = other.id = None
    other.code, other.year = "tongliao-2026", other.year + 1
    other.period_start = other.period_start.replace(year=other.period_start.year + 1)
    other.period_end = other.period_end.replace(year=other.period_end.year + 1)
    other.save()
    return other

"""Headcount snapshots, Beijing supersession with SMS, progress endpoint, pages and scoping,
the admin's small-file import."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from programs import services
from programs.models import (
    Area,
    Contract,
    Enrollment,
    HeadcountSnapshot,
    ImportBatch,
    SmsNotification,
)
from programs.selectors import headcount_on
from programs.sms import LocmemBackend
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory
from tests.programs.registry_helpers import csv_bytes, person_row, run_import, upload


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_superuser=True)


def test_provisional_snapshot_counts_the_cutoff_date_and_prices_it(admin_user):
    rows = [person_row(i) for i in range(1, 4)] + [person_row(4, admdvs="150523", psn_type="特困")]
    run_import(admin_user, csv_bytes(rows))
    # one more joins in June: not in the 2025-04-30 provisional headcount
    run_import(admin_user, csv_bytes([*rows, person_row(5)]), effective_date=dt.date(2025, 6, 1))
    contract = Contract.objects.get(code="tongliao-2025")
    snapshot = services.headcount_snapshot_take(contract=contract, kind="provisional", user=admin_user)
    horqin, kailu = Area.objects.get(code="150502"), Area.objects.get(code="150523")
    figures = {(s.area_id, s.category, s.employment): (s.as_of, s.headcount, s.per_capita, s.premium) for s in snapshot}
    assert figures == {
        (horqin.pk, "ordinary", "active"): (dt.date(2025, 4, 30), 3, Decimal("114.23"), Decimal("342.69")),
        (kailu.pk, "special", "active"): (dt.date(2025, 4, 30), 1, Decimal("114.23"), Decimal("114.23")),
    }
    final = services.headcount_snapshot_take(contract=contract, kind="final", user=admin_user)
    assert sum(s.headcount for s in final) == 5
    assert final[0].as_of == dt.date(2025, 11, 30)
    from programs.selectors import contract_snapshots

    tables = {t.kind: t for t in contract_snapshots(contract)}
    assert (tables["provisional"].total_headcount, tables["provisional"].total_premium) == (4, Decimal("456.92"))
    assert (tables["final"].total_headcount, tables["final"].total_premium) == (5, Decimal("571.15"))
    # taking it again replaces, never duplicates
    services.headcount_snapshot_take(contract=contract, kind="provisional", user=admin_user)
    assert HeadcountSnapshot.objects.filter(contract=contract, kind="provisional").count() == 2


def test_headcount_page_shows_snapshots_to_finance_and_lets_finance_take_one(client, admin_user):
    run_import(admin_user, csv_bytes([person_row(1)]))
    finance = UserFactory(username="fin", role="finance", area_codes=["150500"])
    client.force_login(finance)
    url = reverse("contract_headcount", args=["tongliao-2025"])
    assert client.post(url, {"kind": "provisional"}).status_code == 302
    page = client.get(url).content.decode()
    assert "登记册暂定参保人数" in page and "114.23" in page
    caseworker = UserFactory(username="cw", role="caseworker", area_codes=["150502"])
    client.force_login(caseworker)
    assert client.post(url, {"kind": "final"}).status_code == 403


def _beijing_individual(phone="13800138000"):
    contract = Contract.objects.get(code="beijing-chaoyang-2026")
    person = PersonFactory(area_code="110105", phone=phone)
    individual = EnrollmentFactory(
        person=person, contract=contract, area=Area.objects.get(code="110105"), source="individual",
        enrolled_from=contract.period_start,
    )
    return contract, person, individual


def test_group_list_supersedes_individual_policy_and_queues_one_sms(admin_user, django_capture_on_commit_callbacks):
    contract, person, individual = _beijing_individual()
    row = person_row(0, area="110105", birth=person.birth_date)
    row.update(certno=person.certno, psn_no=person.psn_no, gend=person.sex, brdy=person.birth_date.isoformat())
    effective = contract.period_start + dt.timedelta(days=40)
    LocmemBackend.outbox.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        batch = run_import(admin_user, csv_bytes([row]), contract=contract, effective_date=effective)
    assert callbacks  # tasks (validation, application, the SMS) are enqueued only after commit
    assert batch.status == "done" and batch.rows_superseded == 1 and batch.rows_added == 1
    individual.refresh_from_db()
    group = Enrollment.objects.get(person=person, contract=contract, source="group")
    assert (individual.status, individual.cancelled_on, individual.superseded_by_id) == ("cancelled", effective, group.pk)
    assert individual.history.first().history_change_reason == "被团体参保替代"
    sms = SmsNotification.objects.get()
    assert sms.key == f"enrollment-superseded:{individual.pk}"
    assert (sms.status, sms.phone) == ("queued", "13800138000")
    sms = services.sms_notification_send(notification_id=sms.pk)  # what the task does
    assert sms.status == "sent" and sms.backend == "programs.sms.LocmemBackend"
    assert LocmemBackend.outbox == [("13800138000", sms.message)]
    assert "个人投保的保单已于" in sms.message
    # sending again (a redelivered task) sends nothing; queuing again adds nothing
    assert services.sms_notification_send(notification_id=sms.pk) is None
    services.enrollment_supersede(individual=individual, on=effective)
    assert SmsNotification.objects.count() == 1 and len(LocmemBackend.outbox) == 1


def test_enrolling_a_group_policy_at_the_window_supersedes_the_individual_one(db):
    contract, person, individual = _beijing_individual()
    group = services.enrollment_create(
        person=person, contract=contract, area=Area.objects.get(code="110105"),
        enrolled_from=contract.period_start + dt.timedelta(days=10), source="group",
    )
    individual.refresh_from_db()
    assert individual.status == "cancelled" and individual.superseded_by == group
    assert SmsNotification.objects.filter(enrollment=individual).count() == 1


def test_one_policy_per_person_and_contract_is_enforced_by_the_database(db):
    from django.db import IntegrityError, transaction

    contract, person, individual = _beijing_individual()
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(person=person, contract=contract, area=individual.area,
                                  enrolled_from=contract.period_start, source="group")


def test_progress_endpoint_reports_counts_and_survives_a_reload(client, admin_user):
    bad = person_row(2, gend="9")
    batch = upload(admin_user, csv_bytes([person_row(1), bad]))
    client.force_login(admin_user)
    url = reverse("import_batch_progress", args=[batch.pk])
    data = client.get(url).json()
    assert (data["status"], data["percent"], data["finished"]) == ("pending", 0, False)
    services.import_batch_validate(batch_id=batch.pk)
    data = client.get(url).json()
    assert (data["status"], data["percent"], data["rows_read"], data["rows_valid"], data["rows_rejected"]) == (
        "validated", 100, 2, 1, 1)
    assert data["confirmable"] is True and data["has_rejected_file"] is True
    page = client.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert "确认并写入有效行" in page and 'data-url="/registry/imports/' in page
    rejected = client.get(reverse("import_batch_rejected", args=[batch.pk]))
    body = b"".join(rejected.streaming_content).decode("utf-8-sig")
    assert "性别代码9无法识别。" in body
    assert client.post(reverse("import_batch_confirm", args=[batch.pk])).status_code == 302
    assert client.get(url).json()["confirmed"] is True


def test_upload_page_refuses_a_file_with_a_missing_column(client, admin_user):
    client.force_login(admin_user)
    data = csv_bytes([person_row(1)], header=["certno", "psn_name"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("import_batch_list"), {
        "contract": Contract.objects.get(code="tongliao-2025").pk, "file": SimpleUploadedFile("a.csv", data),
        "effective_date": "2025-01-01", "mode": "full", "source": "group",
    })
    assert response.status_code == 200
    assert "缺少必需的列：gend, brdy, admdvs。" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_import_pages_are_scoped_by_area_and_permission(client, db):
    horqin = UserFactory(username="cw1", role="caseworker", area_codes=["150502"])
    kailu = UserFactory(username="cw2", role="caseworker", area_codes=["150523"])
    city_supervisor = UserFactory(username="sup1", role="supervisor", area_codes=["150500"])
    zhenping_supervisor = UserFactory(username="sup2", role="supervisor", area_codes=["411324"])
    reviewer = UserFactory(username="rev1", role="reviewer", area_codes=["150500"])
    # the 科尔沁区 caseworker's list: their own county's row goes in, 开鲁县's is rejected
    batch = upload(horqin, csv_bytes([person_row(1), person_row(2, admdvs="150523")]))
    batch = services.import_batch_validate(batch_id=batch.pk)
    assert (batch.rows_valid, batch.rows_rejected) == (1, 1)
    detail = reverse("import_batch_detail", args=[batch.pk])
    for user, status in [(horqin, 200), (kailu, 404), (city_supervisor, 200), (zhenping_supervisor, 404), (reviewer, 403)]:
        client.force_login(user)
        assert client.get(detail).status_code == status, user.username
        assert client.get(reverse("import_batch_progress", args=[batch.pk])).status_code == status, user.username
    client.force_login(city_supervisor)
    assert client.post(reverse("import_batch_confirm", args=[batch.pk])).status_code == 403
    assert client.post(reverse("import_batch_list"), {}).status_code == 403
    client.force_login(kailu)
    assert client.post(reverse("import_batch_confirm", args=[batch.pk])).status_code == 404
    # a Zhenping user cannot upload for Tongliao at all
    from django.core.exceptions import ValidationError

    zp = UserFactory(username="cw3", role="caseworker", area_codes=["411324"])
    with pytest.raises(ValidationError):
        upload(zp, csv_bytes([person_row(1)]))
    assert "区划150523不在您的管辖地区内。" in batch.rejected_file.open("rb").read().decode("utf-8-sig")


def test_admin_import_previews_row_errors_and_confirm_applies_only_valid_rows(client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(admin_user)
    contract = Contract.objects.get(code="tongliao-2025")
    rows = [person_row(1, name="包宝山"), person_row(2, psn_type="未知"), person_row(3)]
    url = reverse("admin:programs_enrollment_import")
    response = client.post(url, {
        "format": "0", "contract": contract.pk, "effective_date": "2025-01-01", "resource": "",
        "import_file": SimpleUploadedFile("small.csv", csv_bytes(rows, encoding="gbk")),
    })
    assert response.status_code == 200
    page = response.content.decode()
    assert "人员类别未知无法识别。" in page
    assert Enrollment.objects.count() == 0  # the preview was a dry run
    confirm = response.context["confirm_form"]
    data = {name: confirm[name].value() for name in confirm.fields}
    response = client.post(reverse("admin:programs_enrollment_process_import"), data)
    assert response.status_code == 302
    assert Enrollment.objects.count() == 2
    assert set(Enrollment.objects.values_list("person__name", flat=True)) == {"包宝山", "张三"}
    assert headcount_on(contract=contract, on=dt.date(2025, 3, 1)) == {
        (Area.objects.get(code="150502").pk, "ordinary", "active"): 2}

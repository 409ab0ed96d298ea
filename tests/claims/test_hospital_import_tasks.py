"""Large files go through Celery tasks with a progress bar: the task functions called directly
(SQLite), an in-thread worker fed by the page (enqueued after commit), and with REDIS_URL and
PostgreSQL a real `celery worker` process."""

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from claims import imports
from claims.imports import batches as batch_services
from claims.models import HospitalBatch, Settlement, SettlementCheck
from claims.tasks import apply_hospital_batch, validate_hospital_batch
from programs.models import Area, Contract, Enrollment, InsuredPerson
from tests.claims.hospital_files import (
    csv_bytes,
    media_root,  # noqa: F401 (autouse)
    seeded_terms,  # noqa: F401 (fixture)
    tongliao_row,
    upload,
)
from tests.conftest import require_or_skip
from tests.factories import UserFactory, certno_for

ROOT = Path(__file__).resolve().parents[2]


def enrolled_persons(n: int) -> list[InsuredPerson]:
    """n Tongliao enrollees in 科尔沁区, written in bulk."""
    contract, area = Contract.objects.get(code="tongliao-2025"), Area.objects.get(code="150502")
    persons = InsuredPerson.objects.bulk_create([
        InsuredPerson(certno=certno_for("150502", dt.date(1960, 1, 1) + dt.timedelta(days=i // 900), i % 900),
                      psn_no=f"P{i:08d}", name="测试", sex="1" if (i % 900) % 2 else "2",
                      birth_date=dt.date(1960, 1, 1) + dt.timedelta(days=i // 900))
        for i in range(n)
    ])
    persons = list(InsuredPerson.objects.filter(psn_no__startswith="P").order_by("psn_no"))
    Enrollment.objects.bulk_create([Enrollment(person=p, contract=contract, area=area, enrolled_from=contract.period_start)
                                    for p in persons])
    return persons


def file_of(persons) -> bytes:
    return csv_bytes([tongliao_row(f"S{i:06d}", p) for i, p in enumerate(persons)])


@pytest.mark.django_db
def test_the_task_functions_import_with_progress(monkeypatch):
    finance = UserFactory(username="fin", role="finance", area_codes=["150500"])
    persons = enrolled_persons(25)
    monkeypatch.setattr("claims.imports.rows.CHUNK", 10)
    seen = []
    real_write = batch_services.progress_write
    monkeypatch.setattr(batch_services, "progress_write", lambda *a: (seen.append(a[1:]), real_write(*a)))
    batch = imports.batch_upload(contract=Contract.objects.get(code="tongliao-2025"), month=dt.date(2025, 3, 1),
                                 uploaded_file=upload(file_of(persons)), user=finance)
    assert validate_hospital_batch(batch.pk) == "validated"
    imports.batch_confirm(batch=batch, user=finance)
    assert apply_hospital_batch(batch.pk) == "done"
    assert seen == [("", 0, 0),
                    ("validating", 0, 25), ("validating", 10, 25), ("validating", 20, 25), ("validating", 25, 25),
                    ("validated", 25, 25),
                    ("applying", 0, 25), ("applying", 10, 25), ("applying", 20, 25), ("applying", 25, 25),
                    ("recomputing", 25, 25), ("done", 25, 25)]
    assert Settlement.objects.count() == SettlementCheck.objects.count() == 25
    batch.refresh_from_db()
    assert (batch.row_count, batch.created_count, str(batch.platform_total)) == (25, 25, "120000.00")


@pytest.fixture(scope="session")
def celery_config():
    return {"broker_url": "memory://", "result_backend": "cache+memory://", "task_always_eager": False}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_terms")
def test_the_page_enqueues_after_commit_and_an_in_thread_worker_imports(client, celery_app, celery_worker, monkeypatch):
    monkeypatch.setattr("claims.batch_views.INLINE_BYTES", 0)
    monkeypatch.setattr("claims.batch_views.INLINE_ROWS", 0)
    finance = UserFactory(username="fin", role="finance", area_codes=["150500"])
    persons = enrolled_persons(30)
    client.force_login(finance)
    response = client.post(reverse("hospital_batch_upload"), {
        "contract": Contract.objects.get(code="tongliao-2025").pk, "month": "2025-03", "reported_on": "2025-04-05",
        "file": upload(file_of(persons))})
    batch = HospitalBatch.objects.get()
    progress = reverse("hospital_batch_progress", args=[batch.pk])
    assert _wait(client, progress, "validated")["done"] == 30
    client.post(reverse("hospital_batch_confirm", args=[batch.pk]))
    assert _wait(client, progress, "done") == {"status": "done", "status_label": "已导入", "running": False,
                                               "phase": "done", "phase_label": "完成", "done": 30, "total": 30, "percent": 100}
    assert response.status_code == 302 and Settlement.objects.count() == 30


def _wait(client, url, status, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(url).json()
        if state["status"] == status:
            return state
        assert state["status"] not in ("refused", "failed"), state
        time.sleep(0.2)
    raise AssertionError(f"still {state}")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_terms")
def test_a_real_worker_on_redis_and_postgres_imports_a_batch(tmp_path, settings, client):
    redis_url = os.environ.get("REDIS_URL", "")
    require_or_skip(bool(redis_url) and connection.vendor == "postgresql", "Redis + PostgreSQL", "REQUIRE_SERVICES")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"ci-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "MEDIA_ROOT": settings.MEDIA_ROOT,
           "DJANGO_SETTINGS_MODULE": "insurance_admin.settings.base"}
    finance = UserFactory(username="fin", role="finance", area_codes=["150500"])
    persons = enrolled_persons(300)
    batch = imports.batch_upload(contract=Contract.objects.get(code="tongliao-2025"), month=dt.date(2025, 3, 1),
                                 uploaded_file=upload(file_of(persons)), user=finance)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "insurance_admin", "worker", "-Q", queue, "-c", "1", "--pool", "solo",
         "--without-gossip", "--without-mingle", "--loglevel", "INFO", "--hostname", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        client.force_login(finance)
        progress = reverse("hospital_batch_progress", args=[batch.pk])
        validate_hospital_batch.apply_async((batch.pk,), queue=queue)
        validate_hospital_batch.apply_async((batch.pk,), queue=queue)  # a redelivered message: nothing to do
        assert _wait(client, progress, "validated", timeout=90)["done"] == 300
        imports.batch_confirm(batch=batch, user=finance)
        apply_hospital_batch.apply_async((batch.pk,), queue=queue)
        apply_hospital_batch.apply_async((batch.pk,), queue=queue)
        assert _wait(client, progress, "done", timeout=90)["percent"] == 100
        time.sleep(1)  # let the second message be consumed
        assert Settlement.objects.count() == SettlementCheck.objects.count() == 300
        assert batch.log.filter(action="imported").count() == 1
    finally:
        worker.terminate()
        try:
            out, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            out, _ = worker.communicate()
    assert "claims.tasks.apply_hospital_batch" in out


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_terms")
def test_a_task_finding_the_batch_locked_by_another_worker_does_nothing():
    """PostgreSQL: the second delivery skips the row the first one holds (SKIP LOCKED)."""
    import threading

    from django.db import connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises whole transactions)")
    finance = UserFactory(username="fin", role="finance", area_codes=["150500"])
    persons = enrolled_persons(3)
    batch = imports.batch_upload(contract=Contract.objects.get(code="tongliao-2025"), month=dt.date(2025, 3, 1),
                                 uploaded_file=upload(file_of(persons)), user=finance)
    imports.batch_validate(batch.pk)
    imports.batch_confirm(batch=batch, user=finance)
    HospitalBatch.objects.filter(pk=batch.pk).update(status=HospitalBatch.Status.APPLYING)
    locked, release = threading.Event(), threading.Event()

    def first_worker():
        with transaction.atomic():
            HospitalBatch.objects.select_for_update().get(pk=batch.pk)
            locked.set()
            release.wait(20)
        connections.close_all()

    thread = threading.Thread(target=first_worker)
    thread.start()
    assert locked.wait(20)
    try:
        assert apply_hospital_batch(batch.pk) == "applying"  # skipped: nothing imported
        assert not Settlement.objects.exists()
    finally:
        release.set()
        thread.join()
    assert apply_hospital_batch(batch.pk) == "done"

"""A real `celery beat` (DatabaseScheduler) and a real `celery worker` as separate processes on
Redis and PostgreSQL (issue 20, tests): beat reads two periodic tasks from the database, sends
them through the broker, the worker runs them against the test database, and the test sees a
scheduled report run appear and an inbox item arrive. CI runs it (REQUIRE_SERVICES=1); without
Redis and PostgreSQL it is skipped.

The periodic tasks fire every few seconds (an interval schedule) on a queue of their own that
only this worker consumes; the entries of CELERY_BEAT_SCHEDULE beat installs at start are put
in the database first and disabled, so nothing else goes to the broker's default queue."""

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from claims import registration
from insurance_admin.core.models import Deadline, Notification
from insurance_admin.reporting.models import ReportRun
from programs.models import Contract
from tests.conftest import require_or_skip
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.terminate()
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""


def _schedule(queue: str) -> None:
    """Beat's defaults in the database, disabled; the two tasks under test every 3 seconds."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    from insurance_admin.celery import app

    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        ModelEntry.from_entry(name, app=app, **entry)
    PeriodicTask.objects.update(enabled=False)
    every = IntervalSchedule.objects.create(every=3, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name=f"{queue}-reports", task="insurance_admin.reporting.tasks.reports_daily",
                                interval=every, kwargs=json.dumps({"today_iso": "2025-02-01"}), queue=queue)
    PeriodicTask.objects.create(name=f"{queue}-deadlines", task="insurance_admin.core.tasks.deadlines_scan",
                                interval=every, kwargs=json.dumps({"today_iso": "2025-10-20"}), queue=queue)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_on_redis_generate_a_scheduled_report_and_fill_an_inbox(seeded, tmp_path):
    redis_url = os.environ.get("REDIS_URL", "")
    require_or_skip(bool(redis_url) and connection.vendor == "postgresql", "Redis + PostgreSQL", "REQUIRE_SERVICES")
    cw = UserFactory(username="cw_beat", role="caseworker", area_codes=["150502"], email="")
    contract = Contract.objects.get(code="tongliao-2025")
    person = EnrollmentFactory(person=PersonFactory(name="定时", area_code="150502")).person
    claim = registration.claim_register(
        user=cw, person=person, contract=contract, claim_kind="inpatient", place="in_region", fixmedins_code="H1",
        fixmedins_name="通辽市医院", begndate=dt.date(2025, 9, 1), enddate=dt.date(2025, 9, 10),
        records=[{"setl_id": "M-BEAT", "medfee_sumamt": Decimal("100.00"), "inscp_scp_amt": Decimal("100.00"),
                  "hifp_pay": Decimal("0")}],
        documents=registration.requirements_for(program=contract.program, claim_kind="inpatient", place="in_region"),
        received_on=dt.date(2025, 9, 26))  # due 2025-10-16: overdue on 2025-10-20
    deadline = Deadline.objects.get(kind="claim_service", object_id=claim.pk)
    assert deadline.due_date == dt.date(2025, 10, 16) and not Notification.objects.exists()
    queue = f"ci-beat-{uuid.uuid4().hex[:8]}"
    _schedule(queue)

    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": redis_url,
           "DJANGO_SETTINGS_MODULE": "insurance_admin.settings.base", "MEDIA_ROOT": str(tmp_path / "media"),
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    celery = [sys.executable, "-m", "celery", "-A", "insurance_admin"]
    worker = subprocess.Popen(
        [*celery, "worker", "-Q", queue, "-c", "1", "--pool", "solo", "--without-gossip", "--without-mingle",
         "--loglevel", "INFO", "--hostname", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    beat = subprocess.Popen(
        [*celery, "beat", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler", "--max-interval", "2",
         "--loglevel", "INFO", "--pidfile", str(tmp_path / "beat.pid")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    region = contract.program.region
    runs = ReportRun.objects.filter(contract=contract, kind="monthly", period_start=dt.date(2025, 1, 1))
    inbox = Notification.objects.filter(recipient=cw, deadline=deadline, stage="overdue")
    try:
        end = time.monotonic() + TIMEOUT
        while time.monotonic() < end and not (runs.filter(area=region).exists() and inbox.exists()):
            if worker.poll() is not None or beat.poll() is not None:
                break
            time.sleep(0.5)
    finally:
        beat_out, worker_out = _stop(beat), _stop(worker)
        from insurance_admin.celery import app

        with app.connection_for_write() as conn:  # what beat sent after the worker's last task
            conn.default_channel.queue_delete(queue)
    logs = f"--- beat ---\n{beat_out[-4000:]}\n--- worker ---\n{worker_out[-6000:]}"
    assert runs.filter(area=region).exists() and inbox.exists(), logs
    run = runs.get(area=region)
    assert (run.version, run.trigger, run.generated_by) == (1, "schedule", None)
    assert len(run.pdf_sha256) == 64 and (tmp_path / "media" / run.pdf.name).exists()
    note = inbox.get()
    assert note.link == deadline.link and note.read_at is None
    assert "DatabaseScheduler" in beat_out and f"Sending due task {queue}-reports" in beat_out, logs
    assert "reports_daily" in worker_out and "deadlines_scan" in worker_out, logs

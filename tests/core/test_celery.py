"""The heartbeat task through real Celery workers: an in-thread worker everywhere, and with
REDIS_URL and PostgreSQL (CI) a separate `celery worker` process on the real broker."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from insurance_admin.core.models import Heartbeat
from insurance_admin.core.tasks import record_heartbeat
from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_heartbeat_task_records_and_counts():
    record_heartbeat("unit")
    record_heartbeat("unit")
    hb = Heartbeat.objects.get(source="unit")
    assert hb.beats == 2 and hb.hostname


@pytest.fixture(scope="session")
def celery_config():
    return {"broker_url": "memory://", "result_backend": "cache+memory://", "task_always_eager": False}


@pytest.mark.django_db(transaction=True)
def test_heartbeat_through_an_in_thread_worker(celery_app, celery_worker):
    result = celery_app.send_task(record_heartbeat.name, kwargs={"source": "in-thread"})
    assert result.get(timeout=20)
    assert Heartbeat.objects.get(source="in-thread").beats == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_heartbeat_through_a_real_worker_process_on_redis_and_postgres():
    redis_url = os.environ.get("REDIS_URL", "")
    require_or_skip(bool(redis_url) and connection.vendor == "postgresql", "Redis + PostgreSQL", "REQUIRE_SERVICES")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"ci-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "insurance_admin.settings.base",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "insurance_admin", "worker", "-Q", queue, "-c", "1", "--pool", "solo",
         "--without-gossip", "--without-mingle", "--loglevel", "INFO", "--hostname", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        from insurance_admin.celery import app

        assert app.conf.broker_url == settings.CELERY_BROKER_URL == redis_url
        record_heartbeat.apply_async(kwargs={"source": queue}, queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Heartbeat.objects.filter(source=queue).exists():
            assert worker.poll() is None, worker.stdout.read()
            time.sleep(0.5)
        assert Heartbeat.objects.get(source=queue).beats == 1
    finally:
        worker.terminate()
        try:
            out, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            out, _ = worker.communicate()
    assert "record_heartbeat" in out


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="the filesystem broker is the embedded default's")
def test_filesystem_broker_keeps_its_exchange_tables_under_var_not_the_working_directory(tmp_path, monkeypatch):
    from kombu import Connection, Exchange, Queue

    monkeypatch.chdir(tmp_path)
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    exchange = Exchange(f"guard-{uuid.uuid4().hex[:8]}", type="direct")
    queue = Queue(exchange.name, exchange, routing_key=exchange.name)
    with Connection(settings.CELERY_BROKER_URL, transport_options=options) as conn:
        conn.Producer().publish({"x": 1}, exchange=exchange, routing_key=exchange.name, declare=[queue])
        queue(conn.channel()).purge()
    assert not (tmp_path / "control").exists()
    assert (Path(options["control_folder"]) / f"{exchange.name}.exchange").exists()
    (Path(options["control_folder"]) / f"{exchange.name}.exchange").unlink()

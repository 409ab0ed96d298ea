"""A web request that waits on a lock (a bulk enrollment list holds the registry for ~20 s)
gives up after WEB_LOCK_TIMEOUT_MS and says what holds the tables, instead of hanging."""

import threading
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from insurance_admin.core.imports import progress as import_progress
from programs import selectors, services
from programs.models import ImportBatch
from tests.conftest import require_or_skip
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory
from tests.programs.registry_helpers import csv_bytes, person_row, upload


def _second_connection():
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(host=s["HOST"] or None, port=s["PORT"] or None, user=s["USER"] or None,
                           password=s["PASSWORD"] or None, dbname=s["NAME"])


def _lock_timeout() -> str:
    with connection.cursor() as cur:
        cur.execute("SHOW lock_timeout")
        return cur.fetchone()[0]


@pytest.fixture
def postgres(settings, tmp_path):
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    settings.WEB_LOCK_TIMEOUT_MS = 200
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    with connection.cursor() as cur:  # without the middleware's limit a test fails, not hangs
        cur.execute("SET statement_timeout = '15s'")
    yield
    with connection.cursor() as cur:
        cur.execute("RESET statement_timeout")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_look_up_behind_a_locked_registry_answers_503_with_the_list_being_written(seeded, postgres, client):
    caseworker = UserFactory(username="cw_busy", role="caseworker", area_codes=["150502"])
    person = EnrollmentFactory(person=PersonFactory(name="包宝山", area_code="150502")).person
    root = UserFactory(username="busyroot", is_superuser=True)
    batch = services.import_batch_validate(batch_id=upload(root, csv_bytes([person_row(1)])).pk)
    services.import_batch_confirm(batch=batch, user=root)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.APPLYING)
    import_progress.progress_write(selectors.APPLY_PROGRESS_KIND, batch.pk, {"step": "indexes", "done": 6, "total": 21})
    client.force_login(caseworker)
    url = reverse("home")

    with _second_connection() as other:
        other.execute("LOCK TABLE programs_insuredperson IN ACCESS EXCLUSIVE MODE")  # held until commit
        response = client.get(url, {"q": person.certno, "year": 2025})
        assert response.status_code == 503
        assert response["Retry-After"].isdigit() and 3 <= int(response["Retry-After"]) <= 30
        body = response.content.decode()
        assert "您要查看的数据正在写入" in body
        assert "通辽市2025年度城乡居民大病医疗保险服务项目协议书" in body
        assert "正在重建索引和约束（第 7 项，共 21 项）" in body
        assert f'<meta http-equiv="refresh" content="{response["Retry-After"]}">' in body
        assert "包宝山" not in body  # nothing of the registry was read
        assert _lock_timeout() == "0"  # the limit ends with the request

        # A form sent meanwhile: rolled back, and the page says so (no automatic re-sending).
        response = client.post(reverse("person_detail", args=[person.pk]), HTTP_ACCEPT="text/html")
        assert response.status_code == 503
        body = response.content.decode()
        assert "您提交的内容未保存" in body and "http-equiv" not in body

        # The progress poller (JSON) gets JSON.
        response = client.get(url, {"q": person.certno}, HTTP_ACCEPT="application/json")
        assert response.status_code == 503
        assert response.json()["busy"] is True and response.json()["retry_after"] == int(response["Retry-After"])
        other.rollback()

    response = client.get(url, {"q": person.certno, "year": 2025}, follow=True)  # an exact ID number opens the person
    assert response.status_code == 200 and response.redirect_chain[-1][0].startswith(
        reverse("person_detail", args=[person.pk])) and "包宝山" in response.content.decode()
    services.bulk.drop_tables(batch.pk)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_look_up_during_a_bulk_first_load_is_told_the_step_under_way(seeded, postgres, monkeypatch):
    """The real thing: while the worker's one transaction re-builds the registry's indexes,
    the window (another connection) gets the busy page naming that step, not a hung page."""
    monkeypatch.setattr("django.conf.settings.REGISTRY_BULK_MIN_ROWS", 2)
    caseworker = UserFactory(username="cw_window", role="caseworker", area_codes=["150502"])
    root = UserFactory(username="bulkroot", is_superuser=True)
    batch = services.import_batch_validate(batch_id=upload(root, csv_bytes([person_row(i) for i in range(1, 4)])).pk)
    services.import_batch_confirm(batch=batch, user=root)
    seen = []

    def window(name):
        if name != "indexes" or seen:
            return

        def look_up():
            try:
                browser = Client()
                browser.force_login(caseworker)
                response = browser.get(reverse("home"), {"q": "张三"})
                seen.append((response.status_code, response.content.decode()))
            finally:
                connection.close()

        thread = threading.Thread(target=look_up, daemon=True)
        thread.start()
        thread.join(timeout=15)  # without the limit it would wait for this very transaction

    monkeypatch.setattr(services, "_apply_step", window)
    assert services.import_batch_apply(batch_id=batch.pk).status == "done"
    deadline = time.monotonic() + 15
    while not seen and time.monotonic() < deadline:  # a look-up that waited ends after the commit
        time.sleep(0.1)
    [(status, body)] = seen
    assert status == 503
    assert "正在写入参保名单" in body and "正在重建索引和约束" in body

"""What the progress page shows while a confirmed list is applied (one transaction, its batch
row locked): the statement under way, written by the worker to the import framework's progress
store (insurance_admin.core.imports.progress)."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from insurance_admin.core.imports import progress as import_progress
from programs import selectors, services
from programs.models import ImportBatch
from tests.conftest import require_or_skip
from tests.factories import UserFactory
from tests.programs.registry_helpers import csv_bytes, person_row, upload


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def confirmed(user, rows):
    batch = services.import_batch_validate(batch_id=upload(user, csv_bytes(rows)).pk)
    services.import_batch_confirm(batch=batch, user=user)
    return batch


@pytest.mark.django_db
def test_the_page_names_the_step_under_way_while_the_list_is_applied(monkeypatch):
    user = UserFactory(username="progressroot", is_superuser=True)
    batch = confirmed(user, [person_row(1), person_row(2)])
    seen = {}

    def look(name):  # the page polling while the worker is inside the transaction
        progress = selectors.import_batch_progress(ImportBatch.objects.get(pk=batch.pk))
        seen[name] = (progress["status"], progress["phase"])

    monkeypatch.setattr(services, "_apply_step", look)
    assert services.import_batch_apply(batch_id=batch.pk).status == "done"
    assert seen["persons"] == ("applying", "正在写入参保人")
    assert seen["enrollments"] == ("applying", "正在写入参保记录")
    assert seen["changes"] == ("applying", "正在记录按日期的变更")
    assert seen["exits"] == ("applying", "正在为不在名单中的人员办理退出")
    done = selectors.import_batch_progress(ImportBatch.objects.get(pk=batch.pk))
    assert (done["status"], done["phase"], done["percent"]) == ("done", "", 100)
    services.bulk.drop_tables(batch.pk)


@pytest.mark.django_db
def test_while_keys_are_rebuilt_the_bar_follows_the_statements():
    user = UserFactory(username="barroot", is_superuser=True)
    batch = confirmed(user, [person_row(1)])
    ImportBatch.objects.filter(pk=batch.pk).update(status="applying", rows_valid=100_000,
                                                   apply_started_at=timezone.now())
    batch = ImportBatch.objects.get(pk=batch.pk)
    import_progress.progress_write(selectors.APPLY_PROGRESS_KIND, batch.pk, {"step": "indexes", "done": 6, "total": 21})
    progress = selectors.import_batch_progress(batch)
    # The clock says ~0 %: the seventh of 21 statements is under way, 35 + 62 * 6 / 21.
    assert (progress["percent"], progress["phase"]) == (52, "正在重建索引和约束（第 7 项，共 21 项）")
    ImportBatch.objects.filter(pk=batch.pk).update(apply_started_at=timezone.now() - dt.timedelta(seconds=30))
    progress = selectors.import_batch_progress(ImportBatch.objects.get(pk=batch.pk))
    assert progress["percent"] == 55  # the clock runs ahead: held at the end of the statement's share
    assert progress["eta_seconds"] == 30 * 45 // 55  # the time so far, scaled by what is left
    import_progress.progress_clear(selectors.APPLY_PROGRESS_KIND, batch.pk)
    progress = selectors.import_batch_progress(ImportBatch.objects.get(pk=batch.pk))
    assert (progress["percent"], progress["phase"]) == (99, "")  # nothing told: the clock alone
    services.bulk.drop_tables(batch.pk)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_postgres_bulk_first_load_tells_every_rebuild_statement(seeded, settings, monkeypatch):
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    settings.REGISTRY_BULK_MIN_ROWS = 2
    user = UserFactory(username="rebuildroot", is_superuser=True)
    batch = confirmed(user, [person_row(i) for i in range(1, 4)])
    told, hooked = [], []
    original = import_progress.progress_write

    def spy(kind, batch_id, value):
        if (kind, batch_id) == (selectors.APPLY_PROGRESS_KIND, batch.pk):
            told.append((value["step"], value["done"], value["total"]))
        return original(kind, batch_id, value)

    monkeypatch.setattr(import_progress, "progress_write", spy)
    monkeypatch.setattr(services, "_apply_step", hooked.append)
    assert services.import_batch_apply(batch_id=batch.pk).status == "done"
    rebuild = [t for t in told if t[0] == "indexes" and t[1] is not None]
    total = rebuild[0][2]
    assert total == 2 + 1 + 7 + 16  # primary keys, unique constraint, indexes, foreign keys
    assert rebuild == [("indexes", k, total) for k in range(total)]
    assert hooked == ["persons", "matching", "enrollments", "changes", "exits", "indexes"]  # once each
    services.bulk.drop_tables(batch.pk)

"""Operations (issue 20 item 6): every task is acknowledged late (CELERY_TASK_ACKS_LATE, safe
because each is idempotent by database state) and retried with exponential backoff when the
database is briefly away; a retried task then does its work once."""

from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError

from claims import tasks as claims_tasks
from finance import tasks as finance_tasks
from insurance_admin.core import tasks as core_tasks
from insurance_admin.reporting import tasks as reporting_tasks
from programs import tasks as programs_tasks

RETRIED = [
    claims_tasks.validate_hospital_batch, claims_tasks.apply_hospital_batch,
    programs_tasks.import_batch_validate_task, programs_tasks.import_batch_apply_task,
    programs_tasks.import_stages_clean_task,
    finance_tasks.revolving_topups_compute, finance_tasks.revolving_topups_monthly,
    core_tasks.deadlines_scan, reporting_tasks.reports_daily,
]


@pytest.mark.parametrize("task", RETRIED, ids=lambda t: t.name)
def test_task_is_acked_late_and_retries_a_lost_database_with_backoff(task):
    assert settings.CELERY_TASK_ACKS_LATE is True and task.acks_late is True
    assert task.autoretry_for == (OperationalError,)
    assert (task.retry_backoff, task.retry_backoff_max, task.max_retries) == (True, 600, 5)


def test_beat_names_its_tasks_by_their_registered_names():
    from insurance_admin.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def test_hospital_batch_check_is_retried_after_a_lost_connection_and_runs_once():
    batch = mock.Mock(status="validated")
    with mock.patch.object(claims_tasks.imports, "batch_validate",
                           side_effect=[OperationalError("server closed the connection"), batch]) as validate:
        result = claims_tasks.validate_hospital_batch.apply(args=[7])
    assert result.get() == "validated"
    assert validate.call_args_list == [mock.call(7), mock.call(7)]


@pytest.mark.django_db
def test_monthly_topups_are_retried_after_a_lost_connection():
    with mock.patch.object(finance_tasks.RevolvingFund.objects, "filter",
                           side_effect=[OperationalError("server closed the connection"), []]) as funds:
        result = finance_tasks.revolving_topups_monthly.apply(kwargs={"today_iso": "2025-03-01"})
    assert result.get() == [] and funds.call_count == 2


def test_a_task_still_failing_after_its_retries_raises():
    with mock.patch.object(programs_tasks.services, "import_stages_clean", side_effect=OperationalError("down")) as clean:
        result = programs_tasks.import_stages_clean_task.apply()
    assert isinstance(result.result, OperationalError) and clean.call_count == 6  # the first try and 5 retries

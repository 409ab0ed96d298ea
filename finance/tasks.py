"""Celery tasks of the finance app: thin, idempotent, taking ids; a database that is briefly
away (OperationalError) is retried with exponential backoff."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.utils import timezone

from . import services
from .models import RevolvingFund


@shared_task(name="finance.tasks.revolving_topups_compute", autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def revolving_topups_compute(month_iso: str, user_id: int) -> list[int]:
    """Compute last month's top-up of every revolving fund (one row per fund and month, so a
    rerun returns the same rows). Scheduled monthly by beat; `user_id` is the system account."""
    user = get_user_model().objects.get(pk=user_id)
    month = dt.date.fromisoformat(month_iso).replace(day=1)
    return [services.revolving_topup_compute(fund=fund, month=month, user=user).pk for fund in RevolvingFund.objects.all()]


SYSTEM_USERNAME = "system"


@shared_task(name="finance.tasks.revolving_topups_monthly", autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def revolving_topups_monthly(today_iso: str | None = None) -> list[int]:
    """Beat, on the 1st of every month: compute the month just ended's top-up of every
    revolving fund whose contract year covers that month (seed 002: topped up monthly). Booked by
    the inactive `system` account so the audit trail says who; idempotent per fund and month."""
    today = dt.date.fromisoformat(today_iso) if today_iso else timezone.localdate()
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    user, created = get_user_model().objects.get_or_create(username=SYSTEM_USERNAME, defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    funds = RevolvingFund.objects.filter(contract__period_start__lte=month, contract__period_end__gte=month)
    return [services.revolving_topup_compute(fund=fund, month=month, user=user).pk for fund in funds]


@shared_task(name="finance.tasks.simulation_run_task", acks_late=True)
def simulation_run_task(run_id: int) -> str:
    """One renewal simulation (测算): the service claims the run, writes its progress per
    chunk and its result or error."""
    from .simulation_runs import simulation_run_execute

    run = simulation_run_execute(run_id)
    return "skipped" if run is None else run.status

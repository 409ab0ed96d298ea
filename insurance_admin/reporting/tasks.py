"""Celery tasks of the periodic reports: thin (a date or ids in, one service call)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import OperationalError

from .services import reports_generate_due


@shared_task(
    name="insurance_admin.reporting.tasks.reports_daily",
    acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5,
)
def reports_daily(today_iso: str | None = None) -> list[int]:
    """Beat, every morning before the deadline scan (Asia/Shanghai): generate every periodic
    report that is due and has no run yet, for every contract and book. Idempotent by the
    database (one version 1 per report and period), so a retry, a second beat firing or a
    second worker generates nothing twice; a day beat missed is caught up by the next run."""
    result = reports_generate_due(today=dt.date.fromisoformat(today_iso) if today_iso else None)
    return result.created

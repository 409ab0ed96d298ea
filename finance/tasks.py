"""Celery tasks of the finance app: thin, idempotent, taking ids."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.contrib.auth import get_user_model

from . import services
from .models import RevolvingFund


@shared_task
def revolving_topups_compute(month_iso: str, user_id: int) -> list[int]:
    """Compute last month's top-up of every revolving fund (one row per fund and month, so a
    rerun returns the same rows). Scheduled monthly by beat; `user_id` is the system account."""
    user = get_user_model().objects.get(pk=user_id)
    month = dt.date.fromisoformat(month_iso).replace(day=1)
    return [services.revolving_topup_compute(fund=fund, month=month, user=user).pk for fund in RevolvingFund.objects.all()]

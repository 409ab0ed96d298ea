from celery import shared_task
from django.db import OperationalError


@shared_task(name="insurance_admin.kpis.tasks.rollup_refresh", autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def rollup_refresh() -> int:
    """Beat, every 10 minutes: rebuild the dashboard's pre-aggregated rows of every contract
    (idempotent: each contract's rows are replaced in one transaction)."""
    from .rollup import rollup_refresh_all

    return rollup_refresh_all()

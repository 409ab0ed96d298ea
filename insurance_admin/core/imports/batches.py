"""A batch taken by one worker. Two locks, both SKIP LOCKED:

- the claim (`StateMachine.claim`): the batch is moved to its running status and committed at
  once, so the page shows it running and a redelivered message finds it taken or past;
- the hold (`hold`): inside the step's own transaction the batch row is locked again for the
  length of the step, so a second worker skips it, while a batch whose worker died (its
  transaction rolled back, its lock gone) is picked up by the next delivery.

`TASK_RETRY`: the Celery options of every import task — a database that is briefly away
(OperationalError before the batch is claimed) is retried with exponential backoff."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import OperationalError, models, transaction

TASK_RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "retry_backoff_max": 600,
              "max_retries": 5}


def hold(model: type[models.Model], pk: int, status: str, *, related: Iterable[str] = ()):
    """The batch row locked FOR UPDATE SKIP LOCKED for the caller's transaction if it is in
    `status`; None when another worker holds it or it has moved on."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a batch is held inside the transaction of its step")
    queryset = model.objects.select_for_update(skip_locked=True)
    if related:
        queryset = queryset.select_related(*related)
    return queryset.filter(pk=pk, status=status).first()

"""Celery tasks of the claims app: thin, take ids, idempotent by the batch's state (a batch is
claimed PENDING → VALIDATING and VALIDATED → APPLYING under SKIP LOCKED, so a redelivered
message finds nothing to do). A database that is briefly away (OperationalError before the
batch is claimed or loaded) is retried with exponential backoff; a failure during the check or
the apply ends the batch FAILED with its reason instead (`batch_retry`)."""

from celery import shared_task

from insurance_admin.core.imports.batches import TASK_RETRY

from . import imports


@shared_task(name="claims.tasks.validate_hospital_batch", **TASK_RETRY)
def validate_hospital_batch(batch_id: int) -> str:
    return imports.batch_validate(batch_id).status


@shared_task(name="claims.tasks.apply_hospital_batch", **TASK_RETRY)
def apply_hospital_batch(batch_id: int) -> str:
    return imports.batch_apply(batch_id).status

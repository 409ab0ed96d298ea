"""Celery tasks of the claims app: thin, take ids, idempotent by the batch's state (a batch is
claimed PENDING → VALIDATING and VALIDATED → APPLYING under SKIP LOCKED, so a redelivered
message finds nothing to do)."""

from celery import shared_task

from . import imports


@shared_task(name="claims.tasks.validate_hospital_batch")
def validate_hospital_batch(batch_id: int) -> str:
    return imports.batch_validate(batch_id).status


@shared_task(name="claims.tasks.apply_hospital_batch")
def apply_hospital_batch(batch_id: int) -> str:
    return imports.batch_apply(batch_id).status

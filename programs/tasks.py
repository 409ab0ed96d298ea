"""Celery tasks of the registry: thin, by id, idempotent (each service claims its row), so a
database that is briefly away (OperationalError) is retried with exponential backoff."""

from celery import shared_task
from django.conf import settings

from insurance_admin.core.imports.batches import TASK_RETRY

from . import services


@shared_task(name="programs.tasks.import_batch_validate_task", **TASK_RETRY)
def import_batch_validate_task(batch_id: int) -> str:
    batch = services.import_batch_validate(batch_id=batch_id)
    return "skipped" if batch is None else batch.status


@shared_task(name="programs.tasks.import_batch_apply_task", **TASK_RETRY)
def import_batch_apply_task(batch_id: int) -> str:
    batch = services.import_batch_apply(batch_id=batch_id)
    return "skipped" if batch is None else batch.status


@shared_task(name="programs.tasks.sms_send_task", bind=True, max_retries=None)
def sms_send_task(self, notification_id: int) -> str:
    """Send one SMS; a message left queued (the gateway did not take it this time) is tried
    again after 1, 2, 4 … × SMS_RETRY_SECONDS (the service counts the attempts and fails it
    after SMS_MAX_ATTEMPTS)."""
    notification = services.sms_notification_send(notification_id=notification_id)
    if notification is None:
        return "skipped"
    if notification.status == notification.Status.QUEUED:
        raise self.retry(countdown=settings.SMS_RETRY_SECONDS * 2 ** (notification.attempts - 1))
    return notification.status


@shared_task(name="programs.tasks.import_stages_clean_task", **TASK_RETRY)
def import_stages_clean_task() -> list[int]:
    return services.import_stages_clean()


@shared_task(name="programs.tasks.enrollment_carry_forward_task", acks_late=True, **TASK_RETRY)
def enrollment_carry_forward_task(carry_id: int) -> str:
    """A renewal's roll-forward of last year's enrollments; a rerun resumes it (idempotent)."""
    carry = services.enrollment_carry_forward_run(carry_id=carry_id)
    return "skipped" if carry is None else "done"

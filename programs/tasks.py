"""Celery tasks of the registry: thin, by id, idempotent (each service claims its row)."""

from celery import shared_task

from . import services


@shared_task(name="programs.tasks.import_batch_validate_task")
def import_batch_validate_task(batch_id: int) -> str:
    batch = services.import_batch_validate(batch_id=batch_id)
    return "skipped" if batch is None else batch.status


@shared_task(name="programs.tasks.import_batch_apply_task")
def import_batch_apply_task(batch_id: int) -> str:
    batch = services.import_batch_apply(batch_id=batch_id)
    return "skipped" if batch is None else batch.status


@shared_task(name="programs.tasks.sms_send_task")
def sms_send_task(notification_id: int) -> str:
    notification = services.sms_notification_send(notification_id=notification_id)
    return "skipped" if notification is None else notification.status


@shared_task(name="programs.tasks.import_stages_clean_task")
def import_stages_clean_task() -> list[int]:
    return services.import_stages_clean()

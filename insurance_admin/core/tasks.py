import datetime as dt
import logging
import socket

from celery import shared_task
from django.db import OperationalError
from django.db.models import F
from django.utils import timezone

from .deadlines import deadlines_scan as scan
from .models import Heartbeat, TaskFailure


@shared_task(name="insurance_admin.core.tasks.record_heartbeat")
def record_heartbeat(source: str = "worker") -> str:
    """Beat sends this every minute: a fresh row proves beat, broker and worker all run."""
    hostname = socket.gethostname()
    updated = Heartbeat.objects.filter(source=source).update(
        hostname=hostname, seen_at=timezone.now(), beats=F("beats") + 1
    )
    if not updated:
        Heartbeat.objects.get_or_create(
            source=source, defaults={"hostname": hostname, "seen_at": timezone.now(), "beats": 1}
        )
    return hostname


@shared_task(
    name="insurance_admin.core.tasks.deadlines_scan",
    autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5,
)
def deadlines_scan(today_iso: str | None = None) -> dict:
    """Beat, every morning (Asia/Shanghai): recompute deadline states and send the reminders
    and escalations due. Idempotent by database state (unique inbox rows, e-mails claimed per
    row), so a retry, a second beat firing or a second worker sends nothing twice; a day beat
    missed is caught up by the next scan (stages are "on or after" conditions)."""
    result = scan(today=dt.date.fromisoformat(today_iso) if today_iso else None)
    return {"today": result.today.isoformat(), "states_changed": result.states_changed,
            "notifications_created": result.notifications_created, "emails_sent": result.emails_sent}


def record_task_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **extra) -> None:
    """Celery's `task_failure` signal: keep a row administrators see on the status page (the
    result backend is not Django's). Arguments are ids and dates (tasks are thin), cut short;
    a failure to record never hides the task's own failure."""
    try:
        TaskFailure.objects.create(
            task_id=str(task_id or "")[:64], task_name=str(getattr(sender, "name", sender) or "")[:200],
            args=f"{list(args or [])!r} {dict(kwargs or {})!r}"[:500],
            exception=f"{type(exception).__name__}: {exception}"[:500],
            traceback=str(getattr(einfo, "traceback", "") or "")[-10000:],
            hostname=str(getattr(getattr(sender, "request", None), "hostname", "") or socket.gethostname())[:200],
            failed_at=timezone.now(),
        )
    except Exception:  # the database itself may be what failed
        logging.getLogger(__name__).exception("could not record the failure of task %s", task_id)

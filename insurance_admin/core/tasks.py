import socket

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from .models import Heartbeat


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

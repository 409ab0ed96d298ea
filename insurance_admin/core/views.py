from django.contrib.auth.decorators import login_required, permission_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .deadlines import notification_mark_read
from .models import CalendarYear, Heartbeat, Notification

HEARTBEAT_STALE_SECONDS = 180


def heartbeat_status() -> list[dict]:
    now = timezone.now()
    return [
        {
            "source": hb.source,
            "hostname": hb.hostname,
            "seen_at": hb.seen_at,
            "beats": hb.beats,
            "fresh": (now - hb.seen_at).total_seconds() < HEARTBEAT_STALE_SECONDS,
        }
        for hb in Heartbeat.objects.all()
    ]


@login_required
@permission_required("core.view_heartbeat", raise_exception=True)
def system_status(request):
    return render(
        request,
        "core/system_status.html",
        {
            "heartbeats": heartbeat_status(),
            "database": connection.vendor,
            "stale_after": HEARTBEAT_STALE_SECONDS,
            "calendar": calendar_status(),
        },
    )


def calendar_status(today=None) -> dict:
    """Which years' holiday arrangements are on file, and whether next year's is missing."""
    today = today or timezone.localdate()
    published = set(CalendarYear.objects.filter(published=True).values_list("year", flat=True))
    latest = max(published, default=None)
    return {
        "latest": latest,
        "this_year_missing": today.year not in published,
        # The State Council publishes next year's arrangement in November or December.
        "next_year_missing": today.month >= 11 and today.year + 1 not in published,
        "next_year": today.year + 1,
    }


def healthz(request):
    """Load balancers' probe: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def inbox(request):
    """The user's reminders and escalations, unread first, newest first."""
    from django.core.paginator import Paginator
    from django.db.models import F

    notes = (Notification.objects.filter(recipient=request.user).select_related("deadline", "deadline__contract")
             .order_by(F("read_at").asc(nulls_first=True), "-created_at", "-id"))
    page_obj = Paginator(notes, 50).get_page(request.GET.get("page"))
    return render(request, "core/inbox.html", {"page_obj": page_obj, "notifications": page_obj.object_list})


@login_required
@require_POST
def inbox_read(request, pk: int):
    """Mark one of the user's own notifications read, then open its object (or go back)."""
    note = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(notification=note, user=request.user)
    if request.POST.get("open") and note.link and url_has_allowed_host_and_scheme(note.link, allowed_hosts={request.get_host()}):
        return redirect(note.link)
    return redirect("inbox")

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F, Q
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from insurance_admin.accounts.roles import ROLE_LABELS

from .deadline_calendar import (
    WEEKDAYS,
    display_label,
    feed_token_rotate,
    feed_user,
    ical_feed,
    month_weeks,
    visible_deadlines,
)
from .deadlines import notification_mark_read
from .forms import MAX_DATE, MIN_DATE, DeadlineFilterForm
from .models import CalendarFeed, CalendarYear, Heartbeat, Notification, TaskFailure

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
            "failures": _recent_failures(request.user),
        },
    )


def _recent_failures(user, days: int = 7, limit: int = 50):
    """Failed background tasks of the last week, for those who may read them."""
    if not (user.is_superuser or user.has_perm("core.view_taskfailure")):
        return None
    since = timezone.now() - dt.timedelta(days=days)
    return list(TaskFailure.objects.for_user(user).filter(failed_at__gte=since)[:limit])


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


# --- the deadline calendar (issue 20 item 5) -------------------------------------------------

FEED_WINDOW_PAST_DAYS = 90  # met deadlines older than this leave the feed
FEED_MAX_EVENTS = 5000


def _deadline_filters(request):
    form = DeadlineFilterForm(request.GET or None, user=request.user)
    query = request.GET.copy()
    for key in ("page", "month"):
        query.pop(key, None)
    return form, form.filters(), query.urlencode()


@login_required
def deadline_list(request):
    """The user's deadlines as of today, overdue first, every row linking to its object."""
    today = timezone.localdate()
    form, filters, query = _deadline_filters(request)
    qs = visible_deadlines(request.user, today, **filters)
    day = _date_param(request.GET.get("day"))
    if day is not None:
        qs = qs.filter(due_date=day)
    page_obj = Paginator(qs, 100).get_page(request.GET.get("page"))

    rows = []
    for d in page_obj.object_list:
        d.role_display = ROLE_LABELS.get(d.role, d.role)
        rows.append((d, display_label(d)))
    return render(request, "core/deadlines.html", {
        "form": form, "query": query, "page_obj": page_obj, "rows": rows, "today": today, "day": day,
        "feed": _feed_of(request.user),
    })


@login_required
def deadline_calendar(request):
    """A month of the user's deadlines on their due days, with holidays and make-up days."""
    today = timezone.localdate()
    year, month = _month_param(request.GET.get("month"), today)
    form, filters, query = _deadline_filters(request)
    weeks_first = dt.date(year, month, 1) - dt.timedelta(days=dt.date(year, month, 1).weekday())
    weeks_last = weeks_first + dt.timedelta(days=41)
    deadlines = list(visible_deadlines(request.user, today, **filters).filter(due_date__gte=weeks_first, due_date__lte=weeks_last))
    for d in deadlines:
        d.display = display_label(d)
    weeks = month_weeks(year, month, deadlines, today)
    first = dt.date(year, month, 1)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = (first + dt.timedelta(days=31)).replace(day=1)
    return render(request, "core/deadline_calendar.html", {
        "form": form, "query": query, "weeks": weeks, "weekdays": WEEKDAYS, "first": first, "today": today,
        "previous": previous, "following": following, "per_day": 6, "feed": _feed_of(request.user),
    })


def deadline_feed(request):
    """The iCal feed of a user's deadlines, authenticated by the user's secret token (calendar
    programs send no session); without a token, the signed-in user's own feed. A wrong token
    is a 404 (nothing says whether it ever existed)."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    token = request.GET.get("token", "")
    if token:
        user = feed_user(token)
        if user is None:
            raise Http404
    elif request.user.is_authenticated:
        user = request.user
    else:
        return redirect_to_login(request.get_full_path())
    today = timezone.localdate()

    qs = (visible_deadlines(user, today)
          .filter(Q(met_on__isnull=True) | Q(due_date__gte=today - dt.timedelta(days=FEED_WINDOW_PAST_DAYS)))
          .order_by("due_date", "id"))[:FEED_MAX_EVENTS]
    response = HttpResponse(ical_feed(qs), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="deadlines.ics"'
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_POST
def deadline_feed_rotate(request):
    """Create the user's feed token, or replace it (the old feed URL stops answering)."""
    feed_token_rotate(user=request.user)
    messages.success(request, _("A new calendar feed address was made; the previous one no longer works."))
    return redirect("deadline_list")


def _feed_of(user) -> str:
    feed = CalendarFeed.objects.filter(user=user).first()
    return f"{reverse('deadline_feed')}?token={feed.token}" if feed is not None else ""


def _date_param(value):
    try:
        day = dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is not None and MIN_DATE <= day <= MAX_DATE else None


def _month_param(value, today) -> tuple[int, int]:
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    return today.year, today.month

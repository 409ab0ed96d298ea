"""The deadline calendar (issue 20 item 5): which deadlines a user sees, the month grid with the
State Council's holidays and make-up days, and the per-user iCal feed.

Who sees what: every list is first cut to the user's areas (`Deadline.objects.for_user`).
Supervisors and administrators (permission `core.view_deadline`) see every kind there; any
other role sees its own list, the deadlines whose responsible role is one of its roles.

The feed carries no personal data: a summary names the kind, the contract's title and the
object's number (a claim number, an installment's number, a hospital's month), never a
person; the description gives the state and the rule. Its only credential is the user's
secret token (`CalendarFeed`), which the user rotates.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import CalendarDay, CalendarFeed, Deadline
from .selectors import deadlines_as_of

#: Monday first, as Chinese office calendars print them
WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"]


def sees_every_role(user) -> bool:
    return user.is_superuser or user.has_perm("core.view_deadline")


def visible_deadlines(user, on: dt.date, *, contract_id: int | None = None, area_id: int | None = None,
                      kind: str | None = None, state: str | None = None) -> QuerySet[Deadline]:
    """The user's deadlines with `state_on` as of `on`, overdue first (`deadlines_as_of`), cut
    to the user's areas and, for roles that do not supervise, to the user's own roles."""
    qs = deadlines_as_of(on, kind=kind, state=state, user=user)
    if not sees_every_role(user):
        qs = qs.filter(role__in=list(user.groups.values_list("name", flat=True)))
    if contract_id:
        qs = qs.filter(contract_id=contract_id)
    if area_id:
        qs = qs.filter(area_id=area_id) | qs.filter(area__parent_id=area_id)
    return qs


def display_label(deadline: Deadline) -> str:
    """The object's name without the contract's internal code (the page shows the contract's
    title beside it): "tongliao-2025 #2" reads "#2", a claim keeps its claim number."""
    label = deadline.label
    if deadline.contract_id and label.startswith(deadline.contract.code):
        label = label[len(deadline.contract.code):].strip()
    return label


def summary(deadline: Deadline) -> str:
    """One line without personal data: kind · contract title · object."""
    parts = [deadline.get_kind_display()]
    if deadline.contract_id:
        parts.append(deadline.contract.name)
    label = display_label(deadline)
    if label:
        parts.append(label)
    return " · ".join(parts)


# --- month grid ------------------------------------------------------------------------------


@dataclass
class Day:
    date: dt.date
    in_month: bool
    is_today: bool
    workday: bool
    holiday: str = ""  # a statutory holiday on a weekday
    makeup: str = ""  # a make-up working day (调休) on a weekend
    deadlines: list = field(default_factory=list)

    @property
    def weekend(self) -> bool:
        return self.date.weekday() >= 5


def month_weeks(year: int, month: int, deadlines, today: dt.date) -> list[list[Day]]:
    """The weeks (Monday first) covering the month; each day with its deadlines (those with
    that due date) and the calendar table's holiday or make-up day."""
    weeks_dates = pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks_dates[0][0], weeks_dates[-1][-1]
    exceptions = {d.date: d for d in CalendarDay.objects.filter(date__gte=first, date__lte=last)}
    by_day: dict[dt.date, list] = {}
    for d in deadlines:
        by_day.setdefault(d.due_date, []).append(d)
    weeks = []
    for week in weeks_dates:
        row = []
        for date in week:
            exc = exceptions.get(date)
            workday = exc.is_workday if exc is not None else date.weekday() < 5
            row.append(Day(
                date=date, in_month=date.month == month, is_today=date == today, workday=workday,
                holiday=(exc.name or _("Holiday")) if exc is not None and not exc.is_workday and date.weekday() < 5 else "",
                makeup=(exc.name or _("Make-up working day")) if exc is not None and exc.is_workday and date.weekday() >= 5 else "",
                deadlines=by_day.get(date, []),
            ))
        weeks.append(row)
    return weeks


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, pycalendar.monthrange(year, month)[1])


# --- the feed token --------------------------------------------------------------------------


def feed_token_rotate(*, user) -> CalendarFeed:
    """Give the user a new secret feed token (the old one stops working at once)."""
    with transaction.atomic():
        feed, _created = CalendarFeed.objects.select_for_update().get_or_create(
            user=user, defaults={"token": secrets.token_urlsafe(32), "created_at": timezone.now()})
        if not _created:
            feed.token, feed.created_at = secrets.token_urlsafe(32), timezone.now()
            feed.save(update_fields=["token", "created_at"])
    return feed


def feed_user(token: str):
    """The active user a token belongs to, or None."""
    if not token or len(token) > 64:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token=token, user__is_active=True).first()
    return feed.user if feed is not None else None


# --- iCalendar -------------------------------------------------------------------------------


def _uid(deadline: Deadline) -> str:
    host = (getattr(settings, "SITE_URL", "") or "insurance-admin").split("//")[-1].strip("/") or "insurance-admin"
    return f"deadline-{deadline.pk}@{host}"


def _description(deadline: Deadline) -> str:
    state = getattr(deadline, "state_on", deadline.state)  # as of the day asked (deadlines_as_of)
    lines = [Deadline.State(state).label]
    if deadline.consequence and state == Deadline.State.OVERDUE:
        lines.append(deadline.get_consequence_display())
    if deadline.provisional:
        lines.append(_("provisional: the holiday arrangement of that year is not on file yet"))
    return "\n".join(str(x) for x in lines)


def _url(deadline: Deadline) -> str:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{base}{deadline.link}" if base and deadline.link.startswith("/") else ""


def ical_feed(deadlines, *, stamp: dt.datetime | None = None) -> bytes:
    """An RFC 5545 calendar: one all-day event per deadline on its due date. Written with the
    `icalendar` package when it is installed, else with the minimal writer below."""
    stamp = stamp or timezone.now()
    events = [
        {"uid": _uid(d), "date": d.due_date, "summary": summary(d), "description": _description(d), "url": _url(d)}
        for d in deadlines
    ]
    try:
        import icalendar  # noqa: F401
    except ImportError:
        return _ical_minimal(events, stamp)
    return _ical_package(events, stamp)


def _ical_package(events, stamp) -> bytes:  # pragma: no cover - used when icalendar is installed
    # optional dependency (see ical_feed)
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//insurance_admin//deadlines//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", _("Deadlines"))
    cal.add("x-wr-timezone", "Asia/Shanghai")
    for e in events:
        ev = icalendar.Event()
        ev.add("uid", e["uid"])
        ev.add("dtstamp", stamp)
        ev.add("dtstart", e["date"])
        ev.add("dtend", e["date"] + dt.timedelta(days=1))
        ev.add("summary", e["summary"])
        ev.add("description", e["description"])
        ev.add("transp", "TRANSPARENT")
        if e["url"]:
            ev.add("url", e["url"])
        cal.add_component(ev)
    return cal.to_ical()


# FALLBACK (issue 20 asks for the `icalendar` package, which is not installed in this
# environment): a minimal RFC 5545 writer for what the feed needs — VCALENDAR with all-day
# VEVENTs, TEXT escaping (§3.3.11), CRLF line ends and lines folded at 75 octets (§3.1).


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n")
            .replace("\n", "\\n"))


def _fold(line: str) -> bytes:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return raw + b"\r\n"
    out, current, limit = [], b"", 75
    for ch in line:
        b = ch.encode("utf-8")
        if len(current) + len(b) > limit:
            out.append(current)
            current, limit = b"", 74  # continuation lines start with one space
        current += b
    out.append(current)
    return b"\r\n ".join(out) + b"\r\n"


def _ical_minimal(events, stamp: dt.datetime) -> bytes:
    utc = stamp.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//insurance_admin//deadlines//ZH", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_escape(_('Deadlines'))}", "X-WR-TIMEZONE:Asia/Shanghai"]
    for e in events:
        lines += ["BEGIN:VEVENT", f"UID:{e['uid']}", f"DTSTAMP:{utc}", f"DTSTART;VALUE=DATE:{e['date']:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{e['date'] + dt.timedelta(days=1):%Y%m%d}", f"SUMMARY:{_escape(e['summary'])}",
                  f"DESCRIPTION:{_escape(e['description'])}", "TRANSP:TRANSPARENT"]
        if e["url"]:
            lines.append(f"URL:{e['url']}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return b"".join(_fold(line) for line in lines)


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

import icalendar
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
    return deadline.display_label()


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
    """An RFC 5545 calendar (the `icalendar` package): one all-day event per deadline on its
    due date."""
    stamp = stamp or timezone.now()
    cal = icalendar.Calendar()
    cal.add("prodid", "-//insurance_admin//deadlines//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("Deadlines"))
    cal.add("x-wr-timezone", "Asia/Shanghai")
    for d in deadlines:
        ev = icalendar.Event()
        ev.add("uid", _uid(d))
        ev.add("dtstamp", stamp)
        ev.add("dtstart", d.due_date)
        ev.add("dtend", d.due_date + dt.timedelta(days=1))
        ev.add("summary", summary(d))
        ev.add("description", _description(d))
        ev.add("transp", "TRANSPARENT")
        url = _url(d)
        if url:
            ev.add("url", url)
        cal.add_component(ev)
    return cal.to_ical()

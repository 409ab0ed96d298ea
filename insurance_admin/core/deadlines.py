"""Deadline records (DOMAIN.md §6): the writes lower apps call, the state as of a day, and the
daily scan that recomputes states and puts reminders and escalations into inboxes.

Apps that own an obligation (claims, finance) call `deadline_track` / `deadline_meet` /
`deadline_untrack` inside the transaction that changes the object, so the record never lags
behind it. They also register a backfill function (`register_backfill`, in their
`AppConfig.ready()`) that derives the records of existing rows: `manage.py deadlines_backfill`.
Nothing here imports an app above core.

Stages of a deadline, by date (`today` in Asia/Shanghai):
- upcoming until `remind_on` (due date − DEADLINE_DUE_SOON_DAYS of its kind),
- due soon from `remind_on` to the day before the due date, due today on it,
- overdue after it, met once `met_on` is on or before the day asked about.
Reminders: "due soon" and "overdue" go to the responsible role's users of the area (users bound
to the area or to a region above it); "escalated" goes to the escalation role's users of the
area DEADLINE_ESCALATE_AFTER_DAYS after the due date. Each exists once per recipient.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Deadline, Notification, OpenDeadlineCount

logger = logging.getLogger(__name__)

K = Deadline.Kind
ST = Deadline.State
STAGE = Notification.Stage

DEFAULT_DUE_SOON_DAYS = 5
DEFAULT_ESCALATE_AFTER_DAYS = 3
DEFAULT_ESCALATION_ROLE = "supervisor"


def due_soon_days(kind: str) -> int:
    """Calendar days before the due date when the reminder goes out: the setting's value for
    the kind, else its "default", else 5."""
    conf = getattr(settings, "DEADLINE_DUE_SOON_DAYS", {}) or {}
    return int(conf.get(kind, conf.get("default", DEFAULT_DUE_SOON_DAYS)))


def escalate_after_days() -> int:
    return int(getattr(settings, "DEADLINE_ESCALATE_AFTER_DAYS", DEFAULT_ESCALATE_AFTER_DAYS))


def escalation_role() -> str:
    return getattr(settings, "DEADLINE_ESCALATION_ROLE", DEFAULT_ESCALATION_ROLE)


# --- state -----------------------------------------------------------------------------------


def state_as_of(*, due_date: dt.date, remind_on: dt.date, met_on: dt.date | None, on: dt.date) -> str:
    """The state of a deadline as of a day (pure; the same rule as `state_conditions`)."""
    if met_on is not None and met_on <= on:
        return ST.MET
    if on > due_date:
        return ST.OVERDUE
    if on == due_date:
        return ST.DUE_TODAY
    if on >= remind_on:
        return ST.DUE_SOON
    return ST.UPCOMING


def state_conditions(on: dt.date) -> dict[str, Q]:
    """One Q per state, as of a day, for set-based reads and the scan's updates."""
    met = Q(met_on__isnull=False, met_on__lte=on)
    open_ = ~met
    return {
        ST.MET: met,
        ST.OVERDUE: open_ & Q(due_date__lt=on),
        ST.DUE_TODAY: open_ & Q(due_date=on),
        ST.DUE_SOON: open_ & Q(due_date__gt=on, remind_on__lte=on),
        ST.UPCOMING: open_ & Q(remind_on__gt=on),
    }


# --- writes (called by the owning apps, inside their transactions) ---------------------------


@dataclass(frozen=True)
class Met:
    on: dt.date
    what: str
    by: object = None  # a user, or None for the system


def _key(kind: str, obj) -> dict:
    return {"kind": kind, "content_type": ContentType.objects.get_for_model(type(obj)), "object_id": obj.pk}


def deadline_track(
    *, kind: str, obj, due_date: dt.date | None, label: str, role: str, contract_id: int | None = None,
    area_id: int | None = None, working_days: bool = False, provisional: bool = False, rule: str = "", link: str = "",
    met: Met | None = None, consequence: str = "",
) -> Deadline | None:
    """Create or update the deadline of (kind, obj) to what the object says now. A due date of
    None (not known yet, or no obligation any more while unmet) removes an unmet record; `met`
    given meets it (or keeps it met), `met` None re-opens a record the object no longer meets
    (a receipt reversed). `consequence` names what the contract says happens while the record
    is overdue (a `Deadline.Consequence`, e.g. the insurer's liability suspended by an unpaid
    premium installment). Writes only when something changed."""
    key = _key(kind, obj)
    existing = Deadline.objects.select_for_update().filter(**key).first()
    before = _open_cell(existing)
    if due_date is None:
        if existing is not None and existing.met_on is None:
            existing.delete()
            _count_open(before, -1)
            return None
        return existing
    values = {
        "label": label[:200], "role": role, "contract_id": contract_id, "area_id": area_id, "due_date": due_date,
        "working_days": working_days, "provisional": provisional, "rule": rule[:300], "link": link[:300],
        "consequence": consequence, "remind_on": max(due_date - dt.timedelta(days=due_soon_days(kind)), dt.date.min),
    }
    if met is None:
        values.update(met_on=None, met_at=None, met_by=None, met_what="")
    elif existing is None or existing.met_on is None:
        values.update(met_on=met.on, met_at=timezone.now(), met_by=met.by, met_what=met.what[:200])
    today = timezone.localdate()
    if existing is None:
        deadline = Deadline(**key, **values)
        deadline.state = state_as_of(due_date=due_date, remind_on=deadline.remind_on, met_on=deadline.met_on, on=today)
        deadline.full_clean(exclude=["content_type", "contract", "area", "met_by"])
        deadline.save()
        _count_open(_open_cell(deadline), +1)
        return deadline
    changed = [f for f, v in values.items() if getattr(existing, f) != v]
    state = state_as_of(due_date=due_date, remind_on=values["remind_on"], met_on=values.get("met_on", existing.met_on), on=today)
    if state != existing.state:
        changed.append("state")
        values["state"] = state
    if not changed:
        return existing
    for field in changed:
        setattr(existing, field, values[field])
    existing.save(update_fields=[*changed, "updated_at"])
    after = _open_cell(existing)
    if after != before:
        _count_open(before, -1)
        _count_open(after, +1)
    return existing


def deadline_meet(*, kind: str, obj, on: dt.date, what: str, by=None) -> Deadline | None:
    """Mark (kind, obj)'s deadline met, if it is tracked and not met yet."""
    deadline = Deadline.objects.select_for_update().filter(**_key(kind, obj)).first()
    if deadline is None or deadline.met_on is not None:
        return deadline
    deadline.met_on, deadline.met_at, deadline.met_by, deadline.met_what = on, timezone.now(), by, what[:200]
    deadline.state = state_as_of(due_date=deadline.due_date, remind_on=deadline.remind_on, met_on=on, on=timezone.localdate())
    deadline.save(update_fields=["met_on", "met_at", "met_by", "met_what", "state", "updated_at"])
    _count_open(_cell_of(deadline), -1)
    return deadline


def deadline_untrack(*, kind: str, obj) -> int:
    """Forget an unmet deadline (the obligation disappeared); a met one stays as the record."""
    unmet = Deadline.objects.select_for_update().filter(**_key(kind, obj), met_on__isnull=True)
    cells = [_cell_of(d) for d in unmet]
    deleted = unmet.delete()[0]
    for cell in cells:
        _count_open(cell, -1)
    return deleted


# --- open deadlines per (contract, area, kind, due date) -------------------------------------


def _cell_of(deadline: Deadline) -> tuple:
    return deadline.contract_id, deadline.area_id, deadline.kind, deadline.due_date


def _open_cell(deadline: Deadline | None) -> tuple | None:
    """The `OpenDeadlineCount` cell a deadline counts in; None when it counts nowhere (none,
    met, or not a contract's)."""
    if deadline is None or deadline.met_on is not None or deadline.contract_id is None:
        return None
    return _cell_of(deadline)


def _count_open(cell: tuple | None, delta: int) -> None:
    """Add `delta` to a cell, in the caller's transaction (one of its rows, or a new row)."""
    if cell is None or cell[0] is None:
        return
    contract_id, area_id, kind, due_date = cell
    rows = OpenDeadlineCount.objects.filter(contract_id=contract_id, area_id=area_id, kind=kind, due_date=due_date)
    first = rows.order_by("pk").values_list("pk", flat=True).first()
    # the row read may be gone when the update runs (a rebuild replaced it): then a new row
    if first is None or not OpenDeadlineCount.objects.filter(pk=first).update(count=F("count") + delta):
        OpenDeadlineCount.objects.create(contract_id=contract_id, area_id=area_id, kind=kind, due_date=due_date, count=delta)


@transaction.atomic
def open_deadline_counts_rebuild(*, contract_id: int) -> int:
    """Recount a contract's open deadlines from the deadline rows (beat, with the KPI rollup):
    repairs what was written around the functions above (bulk loads). On PostgreSQL the count
    table is locked against writers meanwhile, so a concurrent `deadline_*` call adds its change
    to the new rows (after this commits) or was counted here (committed before): never lost
    (SQLite serializes writing transactions anyway). Returns the number of rows written."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {OpenDeadlineCount._meta.db_table} IN EXCLUSIVE MODE")
    OpenDeadlineCount.objects.filter(contract_id=contract_id).delete()
    cells = (Deadline.objects.filter(contract_id=contract_id, met_on__isnull=True).order_by()
             .values("area_id", "kind", "due_date").annotate(n=Count("id")))
    rows = [OpenDeadlineCount(contract_id=contract_id, area_id=c["area_id"], kind=c["kind"], due_date=c["due_date"],
                              count=c["n"]) for c in cells]
    OpenDeadlineCount.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


# --- backfill hooks --------------------------------------------------------------------------

_BACKFILLS: list[tuple[str, Callable[[], int]]] = []


def register_backfill(name: str, func: Callable[[], int]) -> None:
    """An app's function that (re)derives the deadlines of its existing rows; idempotent."""
    if all(n != name for n, _f in _BACKFILLS):
        _BACKFILLS.append((name, func))


def deadlines_backfill() -> dict[str, int]:
    return {name: func() for name, func in _BACKFILLS}


# --- the scan --------------------------------------------------------------------------------


@dataclass
class ScanResult:
    today: dt.date
    states_changed: int = 0
    notifications_created: int = 0
    emails_sent: int = 0


def deadlines_scan(*, today: dt.date | None = None) -> ScanResult:
    """Recompute the stored states as of `today` and create the reminders and escalations due,
    then e-mail the new ones. Safe to run twice or concurrently: states are set-based updates of
    the rows that differ, inbox rows are inserted under their unique key, and each e-mail is
    claimed by setting `emailed_at` on a row that had none."""
    today = today or timezone.localdate()
    result = ScanResult(today)
    with transaction.atomic():
        for state, condition in state_conditions(today).items():
            result.states_changed += Deadline.objects.filter(condition).exclude(state=state).update(
                state=state, updated_at=timezone.now())
    result.notifications_created = notifications_create(today=today)
    result.emails_sent = notifications_email()
    logger.info("deadline scan %s: %s states changed, %s notifications, %s e-mails", today, result.states_changed,
                result.notifications_created, result.emails_sent)
    return result


def _due_stages(today: dt.date) -> list[tuple[str, Q, Callable[[Deadline], str]]]:
    open_ = Q(met_on__isnull=True)  # met by now (whatever day the scan is for): nothing to remind
    escalate_from = today - dt.timedelta(days=escalate_after_days())
    return [
        (STAGE.DUE_SOON, open_ & Q(remind_on__lte=today, due_date__gte=today), lambda d: d.role),
        (STAGE.OVERDUE, open_ & Q(due_date__lt=today), lambda d: d.role),
        (STAGE.ESCALATED, open_ & Q(due_date__lte=escalate_from), lambda d: escalation_role()),
    ]


class _Recipients:
    """Active users of a role whose bound areas cover an area (the area itself or a region
    above it), read once per scan."""

    def __init__(self):
        area_model = apps.get_model("programs", "Area")
        self.parent = dict(area_model.objects.values_list("pk", "parent_id"))
        user_model = apps.get_model(settings.AUTH_USER_MODEL)
        through = user_model.areas.through
        self.by_role_area: dict[tuple[str, int], set[int]] = {}
        rows = through.objects.filter(user__is_active=True).values_list("user__groups__name", "area_id", "user_id")
        for role, area_id, user_id in rows:
            if role:
                self.by_role_area.setdefault((role, area_id), set()).add(user_id)

    def __call__(self, role: str, area_id: int | None) -> set[int]:
        found: set[int] = set()
        seen = set()
        while area_id is not None and area_id not in seen:
            seen.add(area_id)
            found |= self.by_role_area.get((role, area_id), set())
            area_id = self.parent.get(area_id)
        return found


def _text(deadline: Deadline, stage: str) -> str:
    values = {"kind": deadline.get_kind_display(), "label": deadline.label, "due": deadline.due_date.isoformat()}
    if stage == STAGE.DUE_SOON:
        return _("%(kind)s %(label)s is due on %(due)s.") % values
    if stage == STAGE.OVERDUE:
        return _("%(kind)s %(label)s was due on %(due)s and is overdue.") % values
    return _("Escalated: %(kind)s %(label)s was due on %(due)s and is still overdue.") % values


def notifications_create(*, today: dt.date) -> int:
    """Insert the inbox rows due as of `today` that do not exist yet; returns how many were new."""
    recipients = _Recipients()
    created = 0
    with translation.override(settings.LANGUAGE_CODE):
        for stage, condition, role_of in _due_stages(today):
            deadlines = Deadline.objects.filter(condition).exclude(area__isnull=True).select_related("contract")
            for chunk in _chunks(deadlines.iterator(chunk_size=2000), 2000):
                have = set(Notification.objects.filter(deadline__in=[d.pk for d in chunk], stage=stage)
                           .values_list("deadline_id", "recipient_id"))
                rows = [
                    Notification(recipient_id=user_id, deadline=d, stage=stage, text=_text(d, stage), link=d.link)
                    for d in chunk for user_id in sorted(recipients(role_of(d), d.area_id)) if (d.pk, user_id) not in have
                ]
                if rows:
                    created += _insert_new(rows, [d.pk for d in chunk], stage)
    return created


def _insert_new(rows: list[Notification], deadline_ids: list[int], stage: str) -> int:
    """Insert the rows not there yet (the unique key decides) and return how many this process
    inserted. On PostgreSQL `ON CONFLICT DO NOTHING RETURNING` counts exactly even while another
    scan inserts the same rows; elsewhere (SQLite, one writer at a time) the count before and
    after serves."""
    if connection.vendor == "postgresql":
        now = timezone.now()
        table = connection.ops.quote_name(Notification._meta.db_table)
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
        params = [p for r in rows for p in (r.recipient_id, r.deadline_id, r.stage, r.text, r.link, now)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (recipient_id, deadline_id, stage, text, link, created_at) VALUES {values} "
                "ON CONFLICT (deadline_id, stage, recipient_id) DO NOTHING RETURNING id", params)
            return len(cursor.fetchall())
    before = Notification.objects.filter(deadline__in=deadline_ids, stage=stage).count()
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return Notification.objects.filter(deadline__in=deadline_ids, stage=stage).count() - before


def _chunks(items: Iterable, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def notifications_email() -> int:
    """E-mail every inbox row not e-mailed yet whose recipient has an address, each exactly once:
    the row is claimed by a conditional update (a concurrent scan claims nothing) and the claim
    rolls back if the mail backend fails, so the next scan tries again."""
    sent = 0
    pending = (Notification.objects.filter(emailed_at__isnull=True).exclude(recipient__email="")
               .select_related("recipient", "deadline").order_by("id"))
    with translation.override(settings.LANGUAGE_CODE):
        for note in pending.iterator(chunk_size=500):
            try:
                with transaction.atomic():
                    if not Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(emailed_at=timezone.now()):
                        continue
                    body = note.text
                    if note.link:
                        body += "\n\n" + _site_url(note.link)
                    send_mail(f"[{note.get_stage_display()}] {note.deadline.label}", body, None, [note.recipient.email])
            except Exception:  # the backend is down: leave the row for the next scan
                logger.exception("e-mail of notification %s failed", note.pk)
                continue
            sent += 1
    return sent


def _site_url(link: str) -> str:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{base}{link}" if base and link.startswith("/") else link


# --- inbox -----------------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification, user) -> Notification:
    """Mark one of the user's own inbox rows read (idempotent: the first read time stays)."""
    if notification.recipient_id != user.pk:
        raise PermissionDenied(_("This is not your notification."))
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    notification.refresh_from_db(fields=["read_at"])
    return notification


def unread_count(user) -> int:
    if user is None or not user.is_authenticated:
        return 0
    # a reminder whose obligation has since been met no longer asks for anything
    return Notification.objects.filter(recipient=user, read_at__isnull=True, deadline__met_on__isnull=True).count()

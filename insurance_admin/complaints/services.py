"""Registering a complaint, assigning it, and its one transition service.

Every state change locks the complaint, checks the transition table and the actor's
permission, checks what the step needs (a handler to investigate; an answer and its root
cause to answer; the rectification to close), saves, writes a ComplaintStatusChange and keeps
the answer deadline (core Deadline, kind complaint_answer) in step — in one transaction."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.models import Claim
from insurance_admin.core.deadlines import Met, deadline_track
from insurance_admin.core.forms import check_text, named
from insurance_admin.core.workdays import load_calendar
from programs.models import Area, Contract, InsuredPerson

from .models import Complaint, ComplaintStatusChange, ComplaintTerms

S = Complaint.Status
MANAGE = "complaints.manage_complaint"
DEADLINE_KIND = "complaint_answer"
DEADLINE_ROLE = "supervisor"
TEXT_MAX = 4000

# from status -> {to status: permission the actor needs}
TRANSITIONS: dict[str, dict[str, str]] = {
    S.RECEIVED: {S.INVESTIGATING: MANAGE},
    S.INVESTIGATING: {S.ANSWERED: MANAGE},
    S.ANSWERED: {S.CLOSED: MANAGE},
    S.CLOSED: {},
}
# the moves back: a supervisor reopens an answered or closed complaint with a reason
# (`complaint_reopen`): investigation again, on a new answer clock from the reopening date.
# `complaint_transition` makes only the forward steps above; together the two tables are the
# complaint's whole transition table (`TABLE`).
REOPENS: dict[str, dict[str, str]] = {
    S.RECEIVED: {},
    S.INVESTIGATING: {},
    S.ANSWERED: {S.INVESTIGATING: MANAGE},
    S.CLOSED: {S.INVESTIGATING: MANAGE},
}
TABLE: dict[str, dict[str, str]] = {state: {**TRANSITIONS[state], **REOPENS[state]} for state in TRANSITIONS}
DEFAULTS_PERM = "complaints.set_complaint_defaults"


class ComplaintRefused(ValidationError):
    pass


def terms_for(contract: Contract) -> ComplaintTerms:
    terms = ComplaintTerms.objects.filter(contract=contract).first()
    if terms is None:
        # from the database only: a contract without a row gets the defaults (the seed
        # contracts' rows come from the migration and `seed_contracts`)
        terms, _created = ComplaintTerms.objects.get_or_create(contract=contract)
    return terms


def answer_clock(contract: Contract, complexity: str, received_on: dt.date) -> tuple[dt.date, bool, str]:
    """(due date, provisional, rule) of a complaint received on `received_on`: the contract's
    own answer time if it sets one, else the default for the complexity, in working days."""
    terms = terms_for(contract)
    if terms.answer_days is not None:
        days, rule = terms.answer_days, _("contract: answer within %(days)s working days") % {"days": terms.answer_days}
    elif complexity == Complaint.Complexity.COMPLEX:
        days, rule = terms.complex_days, _("default for complex complaints: %(days)s working days") % {"days": terms.complex_days}
    else:
        days, rule = terms.simple_days, _("default for simple complaints: %(days)s working days") % {"days": terms.simple_days}
    due = load_calendar().add_working_days(received_on, days)
    return due.date, due.provisional, rule


def _text(label, value: str, *, required: bool) -> str:
    value = (value or "").strip()
    try:
        check_text(value, max_length=TEXT_MAX)
    except ValidationError as exc:
        raise ComplaintRefused(named(label, " ".join(exc.messages)), code="text") from None
    if required and not value:
        raise ComplaintRefused(_("%(field)s is required.") % {"field": label}, code="required")
    return value


def _track(complaint: Complaint, user) -> None:
    met = None
    if complaint.answered_on is not None:
        met = Met(on=complaint.answered_on, what="complaint answered", by=user)
    deadline_track(
        kind=DEADLINE_KIND, obj=complaint, due_date=complaint.answer_due, label=complaint.complaint_no,
        role=DEADLINE_ROLE, contract_id=complaint.contract_id, area_id=complaint.area_id, working_days=True,
        provisional=complaint.due_provisional, rule=complaint.due_rule,
        link=reverse("complaints:detail", args=[complaint.pk]), met=met,
    )


@transaction.atomic
def complaint_register(*, user, contract: Contract, area: Area, channel: str, category: str, complexity: str,
                       summary: str, received_on: dt.date, complainant_person: InsuredPerson | None = None,
                       complainant_name: str = "", complainant_phone: str = "", about_claim=None,
                       about_person: InsuredPerson | None = None, about_staff=None) -> Complaint:
    """Register a complaint in the user's areas and start its answer clock."""
    if not user.has_perm("complaints.add_complaint"):
        raise PermissionDenied(_("You may not register complaints."))
    if not Contract.objects.for_user(user).filter(pk=contract.pk).exists() or \
            not Area.objects.for_user(user).filter(pk=area.pk).exists():
        raise PermissionDenied(_("This area is not one of yours."))
    region = contract.program.region
    if area.pk != region.pk and area.parent_id != region.pk:
        raise ComplaintRefused(_("%(area)s is not covered by %(program)s.") % {"area": area, "program": contract.program},
                               code="area")
    if received_on > timezone.localdate():
        raise ComplaintRefused(_("The date %(value)s is in the future.") % {"value": received_on}, code="date")
    name = _text(_("complainant"), complainant_name, required=False)[:60]
    phone = _text(_("complainant's phone"), complainant_phone, required=False)[:20]
    if complainant_person is None and not name:
        raise ComplaintRefused(_("Name the complainant: a person of the registry or a name."), code="complainant")
    for person in (complainant_person, about_person):
        if person is not None and not InsuredPerson.objects.for_user(user).filter(pk=person.pk).exists():
            raise PermissionDenied(_("This person is not in your areas."))
    if about_claim is not None:
        if about_claim.contract_id != contract.pk or not Claim.objects.for_user(user).filter(pk=about_claim.pk).exists():
            raise ComplaintRefused(_("The claim is not one of this contract in your areas."), code="claim")
    if about_staff is not None and about_staff.contract_id != contract.pk:
        raise ComplaintRefused(_("The staff member does not work for this contract."), code="staff")
    due, provisional, rule = answer_clock(contract, complexity, received_on)
    complaint = Complaint.objects.create(
        complaint_no=uuid.uuid4().hex[:30], contract=contract, area=area, channel=channel, category=category,
        complexity=complexity, complainant_person=complainant_person, complainant_name=name, complainant_phone=phone,
        about_claim=about_claim, about_person=about_person, about_staff=about_staff,
        summary=_text(_("what the complaint says"), summary, required=True), received_on=received_on, received_by=user,
        answer_due=due, due_provisional=provisional, due_rule=rule[:200],
    )
    complaint.complaint_no = f"TS{received_on:%Y}{complaint.pk:06d}"
    complaint.full_clean(exclude=["contract", "area", "complainant_person", "about_claim", "about_person", "about_staff",
                                  "received_by", "assigned_to"])
    complaint.save(update_fields=["complaint_no"])
    ComplaintStatusChange.objects.create(complaint=complaint, from_status="", to_status=S.RECEIVED, by=user)
    _track(complaint, user)
    return complaint


def _check_assignee(complaint: Complaint, assignee) -> None:
    staff = complaint.about_staff
    if staff is not None and staff.user_id is not None and staff.user_id == assignee.pk:
        raise ComplaintRefused(_("A complaint about a staff member is not assigned to that staff member (%(name)s).")
                               % {"name": staff.name}, code="conflict")
    if not assignee.is_active or not assignee.has_perm(MANAGE) or \
            not Complaint.objects.for_user(assignee).filter(pk=complaint.pk).exists():
        raise ComplaintRefused(_("%(user)s cannot handle complaints of this area.")
                               % {"user": assignee.get_full_name() or assignee.username}, code="assignee")


@transaction.atomic
def complaint_assign(*, complaint: Complaint, assignee, user) -> Complaint:
    """Name who handles the complaint (never the staff member it is about)."""
    locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if not user.has_perm(MANAGE):
        raise PermissionDenied(_("You may not assign complaints."))
    if locked.status not in (S.RECEIVED, S.INVESTIGATING):
        raise ComplaintRefused(_("A complaint that is %(status)s is not assigned any more.")
                               % {"status": S(locked.status).label}, code="status")
    _check_assignee(locked, assignee)
    locked.assigned_to = assignee
    locked.save(update_fields=["assigned_to"])
    return locked


@transaction.atomic
def complaint_transition(*, complaint: Complaint, to: str, user, assignee=None, answer: str = "", root_cause: str = "",
                         rectification: str = "", on: dt.date | None = None, note: str = "") -> Complaint:
    locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
    allowed = TRANSITIONS[locked.status]
    if to not in allowed:
        raise ComplaintRefused(_("A complaint that is %(from)s cannot become %(to)s.")
                               % {"from": S(locked.status).label, "to": S(to).label}, code="transition")
    if not user.has_perm(allowed[to]):
        raise PermissionDenied(_("You may not make a complaint %(to)s.") % {"to": S(to).label})
    today = timezone.localdate()
    on = on or today
    if on > today:
        raise ComplaintRefused(_("The date %(value)s is in the future.") % {"value": on}, code="date")
    note = _text(_("note"), note, required=False)
    if to == S.INVESTIGATING:
        assignee = assignee or locked.assigned_to
        if assignee is None:
            raise ComplaintRefused(_("Name who handles the complaint first."), code="assignee")
        _check_assignee(locked, assignee)
        locked.assigned_to = assignee
    elif to == S.ANSWERED:
        locked.answer = _text(_("answer"), answer, required=True)
        locked.root_cause = _text(_("root cause"), root_cause, required=True)
        if on < locked.received_on:
            raise ComplaintRefused(_("The answer cannot precede the complaint (received on %(day)s).")
                                   % {"day": locked.received_on.isoformat()}, code="date")
        locked.answered_on = on
    elif to == S.CLOSED:
        locked.rectification = _text(_("rectification"), rectification, required=True)
        if on < locked.answered_on:
            raise ComplaintRefused(_("A complaint cannot be closed before it was answered (%(day)s).")
                                   % {"day": locked.answered_on.isoformat()}, code="date")
        locked.closed_on = on
    previous = locked.status
    locked.status = to
    locked.save()
    ComplaintStatusChange.objects.create(complaint=locked, from_status=previous, to_status=to, by=user, note=note)
    _track(locked, user)
    return locked


@transaction.atomic
def complaint_reopen(*, complaint: Complaint, user, reason: str, on: dt.date | None = None) -> Complaint:
    """Reopen an answered or closed complaint (a supervisor, with a reason): back to
    investigating, the answer and closing dates cleared (their texts stay as the draft of the
    next answer; the earlier state is in the complaint's history), and a new answer clock from
    the reopening date in working days (the same rule as at registration). Leaves a status-change
    row with who, when and the reason, and moves the answer deadline."""
    locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
    allowed = REOPENS[locked.status]
    if S.INVESTIGATING not in allowed:
        raise ComplaintRefused(_("Only an answered or closed complaint can be reopened; this one is %(status)s.")
                               % {"status": S(locked.status).label}, code="transition")
    if not user.has_perm(allowed[S.INVESTIGATING]):
        raise PermissionDenied(_("You may not reopen complaints."))
    today = timezone.localdate()
    on = on or today
    if on > today:
        raise ComplaintRefused(_("The date %(value)s is in the future.") % {"value": on}, code="date")
    last = locked.closed_on or locked.answered_on
    if last is not None and on < last:
        raise ComplaintRefused(_("A complaint cannot be reopened before its last step (%(day)s).")
                               % {"day": last.isoformat()}, code="date")
    reason = _text(_("reason for reopening"), reason, required=True)
    due, provisional, rule = answer_clock(locked.contract, locked.complexity, on)
    previous = locked.status
    locked.status = S.INVESTIGATING
    locked.answered_on = None
    locked.closed_on = None
    locked.answer_due, locked.due_provisional = due, provisional
    locked.due_rule = (_("reopened on %(day)s; %(rule)s") % {"day": on.isoformat(), "rule": rule})[:200]
    locked._history_user = user
    locked._change_reason = reason[:100]
    locked.save()
    ComplaintStatusChange.objects.create(complaint=locked, from_status=previous, to_status=S.INVESTIGATING, by=user,
                                         note=_("Reopened: %(reason)s") % {"reason": reason})
    _track(locked, user)
    return locked


@transaction.atomic
def complaint_defaults_set(*, terms: ComplaintTerms, user, simple_days: int, complex_days: int) -> ComplaintTerms:
    """A supervisor sets a contract's default answer times (simple and complex complaints), in
    whole working days; the contract's own answer time is the administrator's. Recorded in the
    terms' history with who changed it. Applies to complaints registered from now on."""
    if not user.has_perm(DEFAULTS_PERM):
        raise PermissionDenied(_("You may not set the default complaint answer times."))
    locked = ComplaintTerms.objects.for_user(user).select_for_update().filter(pk=terms.pk).first()
    if locked is None:
        raise PermissionDenied(_("This contract is not one of yours."))
    errors = {}
    for field, value in (("simple_days", simple_days), ("complex_days", complex_days)):
        label = ComplaintTerms._meta.get_field(field).verbose_name
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
            errors[field] = named(label, _("Enter a whole number of working days from 1 to 365."))
    if errors:
        raise ComplaintRefused(errors)
    locked.simple_days, locked.complex_days = simple_days, complex_days
    locked.full_clean(exclude=["contract"])
    locked._history_user = user
    locked._change_reason = _("default answer times set by a supervisor")
    locked.save(update_fields=["simple_days", "complex_days"])
    return locked


def complaints_deadlines_backfill() -> int:
    """Derive the answer deadline of every complaint (idempotent)."""
    count = 0
    for complaint in Complaint.objects.iterator(chunk_size=2000):
        with transaction.atomic():
            _track(complaint, complaint.assigned_to)
        count += 1
    return count

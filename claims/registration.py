"""Manual claims at the window (非即时结算): registration with its settlement records and
documents, the document checklist, deadlines and their extension (DOMAIN.md §1, §3, §6).

State changes go through `claims.workflow.claim_transition`; this module creates claims and
records what the window receives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from insurance_admin.core.deadlines import Met, deadline_track
from insurance_admin.core.workdays import load_calendar
from programs.coverage import coverage_timeline
from programs.models import Contract, InsuredPerson

from . import deadlines
from .models import (
    Claim,
    ClaimDocument,
    ClaimStatusChange,
    ClaimTerms,
    DocumentRequirement,
    Settlement,
)
from .services import NotEnrolled, enrollment_of

S = Claim.Status
CLOSED = (S.PAID, S.REJECTED, S.WITHDRAWN)
IDENTITY_TOLERANCE = Decimal("0.01")
_PARTS = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")


class RegistrationRefused(ValidationError):
    """The claim cannot be registered; the message says which rule refuses it, `links` point
    at the existing claim or settlement it collides with."""

    def __init__(self, message, code=None, links=()):
        super().__init__(message, code=code)
        self.links = list(links)


@dataclass(frozen=True)
class PossibleDuplicate:
    """Another claim or instant settlement of the same person whose dates overlap and whose
    total cost is the same: registering anyway needs the caseworker's confirmation."""

    label: str
    url: str
    claim: Claim | None


# --- reads ------------------------------------------------------------------------------


def terms_of(contract: Contract) -> ClaimTerms | None:
    return ClaimTerms.objects.filter(contract=contract).first()


def requirements_for(*, program, claim_kind: str, place: str) -> list[DocumentRequirement]:
    return [r for r in DocumentRequirement.objects.filter(program=program) if r.applies_to(claim_kind, place)]


def missing_documents(claim: Claim) -> list[DocumentRequirement]:
    received = set(claim.documents.values_list("requirement_id", flat=True))
    return [
        r for r in requirements_for(program=claim.contract.program, claim_kind=claim.claim_kind, place=claim.place)
        if r.required and r.pk not in received
    ]


def deadline_rule(claim: Claim, terms: ClaimTerms | None = None) -> deadlines.DeadlineRule | None:
    terms = terms if terms is not None else terms_of(claim.contract)
    if terms is None:
        return None
    return deadlines.applicable_rule(
        deadline=(terms.deadline_days, terms.deadline_unit),
        out_of_area=(terms.out_of_area_days, terms.out_of_area_unit),
        extended=(terms.extended_days, terms.extended_unit),
        out_of_area_places=terms.out_of_area_places,
        place=claim.place,
        is_extended=bool(claim.extension_reason),
    )


def rule_description(rule: deadlines.DeadlineRule) -> str:
    unit = _("working days") if rule.unit == deadlines.WORKING else pgettext("deadline unit", "calendar days")
    kind = {"standard": _("standard"), "out_of_area": _("out of area"), "extended": _("extended for verification")}[rule.kind]
    return _("%(days)s %(unit)s from complete documents (%(kind)s)") % {"days": rule.days, "unit": unit, "kind": kind}


@dataclass(frozen=True)
class DeadlineStatus:
    due: dt.date | None
    provisional: bool
    days_left: int | None
    unit: str
    overdue: bool


def deadline_status(claim: Claim, today: dt.date | None = None, *, terms_by_contract: dict | None = None,
                    calendar=None) -> DeadlineStatus:
    """Due date, days left in the rule's unit and whether the claim is overdue (an open
    claim past its due date; a paid, rejected or withdrawn claim is never overdue). A list
    passes the contracts' terms and one calendar, so a page of claims reads them once."""
    if claim.due_date is None:
        return DeadlineStatus(None, False, None, "", False)
    today = today or timezone.localdate()
    terms = terms_by_contract.get(claim.contract_id) if terms_by_contract is not None else None
    rule = deadline_rule(claim, terms) if terms is not None or terms_by_contract is None else None
    unit = rule.unit if rule is not None else deadlines.CALENDAR
    open_ = claim.status not in CLOSED
    left = deadlines.days_left(claim.due_date, today, unit, calendar or load_calendar()) if open_ else None
    return DeadlineStatus(claim.due_date, claim.due_provisional, left, unit, open_ and today > claim.due_date)


def possible_duplicates(*, person: InsuredPerson, contract: Contract, begndate: dt.date | None, enddate: dt.date,
                        totals: list[Decimal], exclude_claim: Claim | None = None) -> list[PossibleDuplicate]:
    """Same person, overlapping stay, same total cost: in another live claim or in a hospital's
    instant settlement (which the platform already paid)."""
    start = begndate or enddate
    overlapping = Q(begndate__lte=enddate, enddate__gte=start) | Q(begndate__isnull=True, enddate__gte=start, enddate__lte=enddate)
    found = []
    claims = (
        Claim.objects.filter(person=person, contract=contract).filter(overlapping).exclude(status__in=[S.REJECTED, S.WITHDRAWN])
    )
    if exclude_claim is not None:
        claims = claims.exclude(pk=exclude_claim.pk)
    for claim in claims.prefetch_related("settlements"):
        if any(s.medfee_sumamt in totals for s in claim.settlements.all()):
            found.append(PossibleDuplicate(
                _("claim %(no)s (%(status)s)") % {"no": claim.claim_no, "status": claim.get_status_display()},
                reverse("claim_detail", args=[claim.pk]), claim,
            ))
    instant = Settlement.objects.filter(person=person, contract=contract, source=Settlement.Source.INSTANT,
                                        medfee_sumamt__in=totals).filter(overlapping)
    for settlement in instant:
        found.append(PossibleDuplicate(
            _("instant settlement %(id)s at %(hospital)s") % {"id": settlement.setl_id, "hospital": settlement.fixmedins_name},
            reverse("admin:claims_settlement_change", args=[settlement.pk]), None,
        ))
    return found


# --- writes -----------------------------------------------------------------------------


@transaction.atomic
def claim_register(
    *,
    user,
    person: InsuredPerson,
    contract: Contract,
    claim_kind: str,
    place: str,
    fixmedins_code: str,
    fixmedins_name: str,
    hosp_lv: str = "",
    begndate: dt.date | None,
    enddate: dt.date,
    records: list[dict],
    documents: list[DocumentRequirement],
    received_on: dt.date | None = None,
    payee_name: str = "",
    bank_name: str = "",
    bank_account: str = "",
    notes: str = "",
    confirm_duplicate: bool = False,
    today: dt.date | None = None,
) -> Claim:
    """Register a manual claim with its basic-insurance settlement record(s) and the documents
    received. Refused (nothing written) when the person is not enrolled, the discharge lies
    outside the insurance year, the filing window has closed, a settlement id is already known,
    or a possible duplicate is not confirmed. All documents in: the claim becomes DOCUMENTS
    COMPLETE at once and its service deadline starts."""
    if not user.has_perm("claims.add_claim"):
        raise PermissionDenied(_("You may not register claims."))
    today = today or timezone.localdate()
    received_on = received_on or today
    try:
        enrollment = enrollment_of(person, contract)
    except NotEnrolled:
        raise RegistrationRefused(
            _("%(person)s is not enrolled in %(contract)s.") % {"person": person, "contract": contract.name}, code="not_enrolled"
        ) from None
    if not (contract.period_start <= enddate <= contract.period_end):
        raise RegistrationRefused(
            _("The discharge date %(date)s lies outside the insurance year %(start)s – %(end)s; the year of a claim is "
              "the year of its discharge date.") % {"date": enddate, "start": contract.period_start, "end": contract.period_end},
            code="outside_year",
        )
    if begndate and begndate > enddate:
        raise RegistrationRefused(_("The admission date is after the discharge date."), code="dates")
    discharges = sorted({enddate, *(r["enddate"] for r in records if r.get("enddate"))})
    if discharges[-1] > today:
        raise RegistrationRefused(
            _("Discharge date %(date)s is in the future (today is %(today)s).") % {"date": discharges[-1], "today": today},
            code="future_discharge",
        )
    timeline = coverage_timeline(person=person, contract=contract)
    for day in discharges:
        coverage = timeline.on(day)
        if not coverage.covered:  # the year and the cover of a record are those of its discharge date
            raise RegistrationRefused(coverage.message, code="not_covered")
    terms = terms_of(contract)
    if terms and terms.filing_window_months is not None:
        last = deadlines.filing_deadline(contract.period_end, terms.filing_window_months)
        if today > last:
            raise RegistrationRefused(
                _("Filed too late: the last day to file for %(contract)s was %(last)s. The contract says: %(rule)s")
                % {"contract": contract.name, "last": last, "rule": terms.filing_rule_text},
                code="filing_window",
            )
    if not records:
        raise RegistrationRefused(_("A claim needs at least one settlement record."), code="no_records")
    _check_records(records)
    totals = [Decimal(r["medfee_sumamt"]) for r in records]
    duplicates = possible_duplicates(person=person, contract=contract, begndate=begndate, enddate=enddate, totals=totals)
    if duplicates and not confirm_duplicate:
        raise RegistrationRefused(
            _("Possible duplicate of %(list)s: same person, overlapping dates, same total cost. Check it, then confirm to "
              "register anyway.") % {"list": "; ".join(d.label for d in duplicates)},
            code="possible_duplicate", links=[(d.label, d.url) for d in duplicates],
        )
    if documents:
        _check_received_on(received_on, discharges[-1], today)
    claim = Claim(
        claim_no=f"tmp-{timezone.now().timestamp()}-{user.pk}",
        contract=contract, person=person, area=enrollment.area, registered_by=user,
        claim_kind=claim_kind, place=place, fixmedins_code=fixmedins_code, fixmedins_name=fixmedins_name,
        begndate=begndate, enddate=enddate, payee_name=payee_name or person.name, bank_name=bank_name,
        bank_account=bank_account, notes=notes,
        possible_duplicate_of=next((d.claim for d in duplicates if d.claim), None),
        duplicate_note="; ".join(d.label for d in duplicates)[:300],
    )
    claim.full_clean(exclude=["claim_no"])
    claim.save()
    claim.claim_no = f"LP{contract.year}{enrollment.area.code}{claim.pk:07d}"
    claim.save(update_fields=["claim_no"])
    ClaimStatusChange.objects.create(claim=claim, from_status="", to_status=S.REGISTERED, by=user,
                                     reason=claim.duplicate_note and _("registered despite: %s") % claim.duplicate_note)
    for record in records:
        settlement = Settlement(
            contract=contract, person=person, area=enrollment.area, claim=claim, source=Settlement.Source.MANUAL,
            psn_no=person.psn_no or "", claim_kind=claim_kind, place=place, hosp_lv=hosp_lv,
            fixmedins_code=fixmedins_code, fixmedins_name=fixmedins_name,
            begndate=record.get("begndate") or begndate, enddate=record.get("enddate") or enddate,
            **{k: v for k, v in record.items() if k not in ("begndate", "enddate")},
        )
        settlement.full_clean(exclude=["claim", "contract", "person", "area"])
        settlement.save()
    _receive(claim, documents, received_on, user)
    if not missing_documents(claim):
        # cycle: claims.workflow imports this module
        from .workflow import claim_transition

        claim = claim_transition(claim=claim, to=S.DOCUMENTS_COMPLETE, user=user, documents_complete_on=received_on)
    return claim


def _check_records(records: list[dict]) -> None:
    seen = set()
    for i, record in enumerate(records, start=1):
        setl_id = record["setl_id"]
        if setl_id in seen:
            raise RegistrationRefused(_("Record %(n)s repeats settlement id %(id)s.") % {"n": i, "id": setl_id}, code="setl_id")
        seen.add(setl_id)
        existing = Settlement.objects.filter(setl_id=setl_id).select_related("claim").first()
        if existing is not None:
            where = (
                _("claim %(no)s") % {"no": existing.claim.claim_no} if existing.claim
                else _("an instant settlement of %(hospital)s") % {"hospital": existing.fixmedins_name}
            )
            raise RegistrationRefused(
                _("Settlement id %(id)s is already registered in %(where)s.") % {"id": setl_id, "where": where},
                code="duplicate_setl_id",
                links=[(where, reverse("claim_detail", args=[existing.claim_id]) if existing.claim_id
                        else reverse("admin:claims_settlement_change", args=[existing.pk]))],
            )
        hifp, inscp = Decimal(record.get("hifp_pay") or 0), Decimal(record.get("inscp_scp_amt") or 0)
        if hifp > inscp:
            raise RegistrationRefused(
                _("Record %(n)s: basic pooled fund paid (hifp_pay) %(hifp)s exceeds the amount within policy scope "
                  "(inscp_scp_amt) %(inscp)s.") % {"n": i, "hifp": hifp, "inscp": inscp},
                code="hifp_above_scope",
            )
        total = Decimal(record["medfee_sumamt"])
        parts = sum((Decimal(record.get(f) or 0) for f in _PARTS), Decimal("0"))
        if abs(total - parts) > IDENTITY_TOLERANCE:
            raise RegistrationRefused(
                _("Record %(n)s: total cost %(total)s is not the sum of fully self-paid, above price limits, class-B "
                  "first self-pay and within policy scope (%(parts)s).") % {"n": i, "total": total, "parts": parts},
                code="identity",
            )


def _check_received_on(received_on: dt.date, enddate: dt.date, today: dt.date) -> None:
    """Documents about a stay exist only after the discharge, and not after today."""
    if received_on < enddate:
        raise RegistrationRefused(
            _("The documents cannot have been received (%(received)s) before the discharge (%(discharge)s).")
            % {"received": received_on, "discharge": enddate}, code="received_before_discharge",
        )
    if received_on > today:
        raise RegistrationRefused(_("The date %(value)s is in the future.") % {"value": received_on}, code="received_in_future")


def _receive(claim: Claim, documents, received_on: dt.date, user) -> int:
    have = set(claim.documents.values_list("requirement_id", flat=True))
    new = [ClaimDocument(claim=claim, requirement=r, received_on=received_on, received_by=user)
           for r in documents if r.pk not in have and r.program_id == claim.contract.program_id]
    for doc in new:
        doc.save()  # one by one: history rows for each document
    return len(new)


@transaction.atomic
def claim_documents_receive(*, claim: Claim, documents: list[DocumentRequirement], received_on: dt.date, user) -> Claim:
    """Record documents brought later; the last missing one completes the claim."""
    if not user.has_perm("claims.change_claim"):
        raise PermissionDenied(_("You may not change claims."))
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if claim.status not in (S.REGISTERED, S.RETURNED):
        raise ValidationError(_("Documents are recorded only while a claim is registered or returned."))
    _check_received_on(received_on, claim.enddate, timezone.localdate())
    _receive(claim, documents, received_on, user)
    if claim.status == S.REGISTERED and not missing_documents(claim):
        # cycle: claims.workflow imports this module
        from .workflow import claim_transition

        claim = claim_transition(claim=claim, to=S.DOCUMENTS_COMPLETE, user=user, documents_complete_on=received_on)
    return claim


def claim_deadline_set(claim: Claim) -> None:
    """Fix the due date from the contract's rule (called by the workflow, row already locked)."""
    rule = deadline_rule(claim)
    if rule is None or claim.documents_complete_on is None:
        claim.due_date, claim.due_provisional, claim.due_rule = None, False, ""
        return
    due = rule.due(claim.documents_complete_on, load_calendar())
    claim.due_date, claim.due_provisional, claim.due_rule = due.date, due.provisional, rule_description(rule)


@transaction.atomic
def claim_extend(*, claim: Claim, reason: str, user) -> Claim:
    """Extend an out-of-area claim's deadline to the verification deadline (Tongliao: 25 days →
    30 working days when the hospital costs must be verified), with the reason recorded."""
    if not user.has_perm("claims.change_claim"):
        raise PermissionDenied(_("You may not change claims."))
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    terms = terms_of(claim.contract)
    if not reason.strip():
        raise ValidationError(_("A reason is required."), code="reason")
    if claim.status in CLOSED or claim.documents_complete_on is None:
        raise ValidationError(_("Only an open claim with complete documents can be extended."), code="state")
    if claim.extension_reason:
        raise ValidationError(_("This claim's deadline was already extended."), code="twice")
    if terms is None or terms.extended_days is None or claim.place not in terms.out_of_area_places:
        raise ValidationError(_("The contract allows no extension for this claim."), code="not_allowed")
    claim.extension_reason = reason.strip()
    claim.extended_by = user
    claim_deadline_set(claim)
    claim.save()
    claim_deadline_track(claim, user=user)
    return claim


# --- the claim's deadline record (insurance_admin.core.deadlines) ---------------------------

#: the role that answers for a claim's service time
CLAIM_DEADLINE_ROLE = "caseworker"


def claim_deadline_track(claim: Claim, *, user=None, met_on: dt.date | None = None) -> None:
    """Keep the claim's deadline record in step with the claim (same transaction): tracked
    from complete documents, met once the claim is paid (or closed by rejection/withdrawal),
    re-opened with its new due date when a returned claim is completed again."""
    met = None
    if claim.status in CLOSED:
        # a paid claim's obligation is met on the payment date finance records, whoever asks
        # (the workflow or the backfill); a rejection or withdrawal on the day it was decided
        met = Met(on=claim.paid_on or met_on or timezone.localdate(), what=f"claim {claim.status}", by=user)
    rule = deadline_rule(claim) if claim.due_date is not None else None
    deadline_track(
        kind="claim_service", obj=claim, due_date=claim.due_date, label=claim.claim_no, role=CLAIM_DEADLINE_ROLE,
        contract_id=claim.contract_id, area_id=claim.area_id, provisional=claim.due_provisional, rule=claim.due_rule,
        working_days=rule is not None and rule.unit == deadlines.WORKING,
        link=reverse("claim_detail", args=[claim.pk]), met=met,
    )


def claims_deadlines_backfill() -> int:
    """Derive the deadline records of every claim with a due date (idempotent); a closed claim's
    deadline is met on its payment date, or else on the day of its closing status change."""
    closed_on = {}
    for claim_id, at in (ClaimStatusChange.objects.filter(to_status__in=CLOSED).order_by("at")
                         .values_list("claim_id", "at")):
        closed_on[claim_id] = timezone.localdate(at)
    count = 0
    for claim in Claim.objects.filter(due_date__isnull=False).iterator(chunk_size=2000):
        with transaction.atomic():
            claim_deadline_track(claim, met_on=closed_on.get(claim.pk))
        count += 1
    return count

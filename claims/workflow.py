"""The claim's life: one transition table, one transition service (DOMAIN.md §1, issue 5).

Every change locks the claim row, checks the table and the actor's permission, saves, and
writes a ClaimStatusChange in the same transaction. Approval runs the engine against the
person's accumulators (locked inside `calculation_commit`) and fixes the amount for good.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from insurance_admin.core.forms import check_text, named

from . import hooks, registration
from .engine import explanation_steps
from .models import Claim, ClaimStatusChange, Deduction, Settlement
from .services import (
    ROW_FIELDS,
    DeductionExceedsPayable,
    NotCovered,
    RecordDeduction,
    apply_deduction,
    calculation_commit,
    row_record,
    trial_calculate,
)

S = Claim.Status

# from status -> {to status: permission the actor needs}
TRANSITIONS: dict[str, dict[str, str]] = {
    S.REGISTERED: {S.DOCUMENTS_COMPLETE: "claims.change_claim", S.WITHDRAWN: "claims.change_claim", S.REJECTED: "claims.review_claim"},
    S.DOCUMENTS_COMPLETE: {S.CALCULATED: "claims.change_claim", S.WITHDRAWN: "claims.change_claim", S.REJECTED: "claims.review_claim"},
    S.CALCULATED: {S.SUBMITTED: "claims.change_claim", S.WITHDRAWN: "claims.change_claim"},
    S.SUBMITTED: {S.APPROVED: "claims.review_claim", S.RETURNED: "claims.review_claim", S.REJECTED: "claims.review_claim"},
    S.RETURNED: {S.DOCUMENTS_COMPLETE: "claims.change_claim", S.CALCULATED: "claims.change_claim", S.WITHDRAWN: "claims.change_claim"},
    S.APPROVED: {S.PAID: "claims.pay_claim"},
    S.PAID: {},
    S.REJECTED: {},
    S.WITHDRAWN: {},
}
NEEDS_REASON = {S.RETURNED, S.REJECTED, S.WITHDRAWN}

#: What the button of each transition does, as a verb: the target status names a state
#: ("已审批"), the button an action ("审核通过"). Keyed by the target status; VERB_FROM holds
#: the few transitions that read differently from a particular status.
TRANSITION_VERBS = {
    S.DOCUMENTS_COMPLETE: pgettext_lazy("claim action", "Confirm the documents complete"),
    S.CALCULATED: pgettext_lazy("claim action", "Calculate"),
    S.SUBMITTED: pgettext_lazy("claim action", "Submit for review"),
    S.APPROVED: pgettext_lazy("claim action", "Approve"),
    S.RETURNED: pgettext_lazy("claim action", "Return"),
    S.REJECTED: pgettext_lazy("claim action", "Reject"),
    S.WITHDRAWN: pgettext_lazy("claim action", "Withdraw"),
    S.PAID: pgettext_lazy("claim action", "Record the payment"),
}
VERB_FROM = {
    (S.RETURNED, S.CALCULATED): pgettext_lazy("claim action", "Calculate again"),
}


def transition_verb(from_status: str, to: str) -> str:
    """The button label of the transition from `from_status` to `to`."""
    return str(VERB_FROM.get((from_status, to)) or TRANSITION_VERBS[to])


class TransitionRefused(ValidationError):
    pass


@transaction.atomic
def claim_transition(*, claim: Claim, to: str, user, reason: str = "", documents_complete_on=None,
                     paid_on=None, voucher_no: str = "") -> Claim:
    locked = Claim.objects.select_for_update().get(pk=claim.pk)
    allowed = TRANSITIONS[locked.status]
    if to not in allowed:
        raise TransitionRefused(
            _("A claim that is %(from)s cannot become %(to)s.") % {"from": S(locked.status).label, "to": S(to).label},
            code="transition",
        )
    if not user.has_perm(allowed[to]):
        raise PermissionDenied(_("You may not make a claim %(to)s.") % {"to": S(to).label})
    if to in NEEDS_REASON and not reason.strip():
        raise TransitionRefused(_("A reason is required."), code="reason")
    try:
        check_text(reason, max_length=2000)
    except ValidationError as exc:
        raise TransitionRefused(named(_("reason"), " ".join(exc.messages)), code="reason") from None
    if to == S.DOCUMENTS_COMPLETE:
        missing = registration.missing_documents(locked)
        if missing:
            raise TransitionRefused(
                _("Documents still missing: %(list)s.") % {"list": "、".join(r.label for r in missing)}, code="documents"
            )
        locked.documents_complete_on = documents_complete_on or timezone.localdate()
        registration.claim_deadline_set(locked)
    try:
        if to == S.CALCULATED:
            locked.trial_payable = _trial(locked)
        if to == S.APPROVED:
            if user.pk == locked.registered_by_id:
                raise PermissionDenied(_("The reviewer who approves cannot be the caseworker who registered the claim."))
            _approve(locked, user)
    except NotCovered as exc:  # discharged where the person was not covered: pays nothing
        raise TransitionRefused(str(exc), code="not_covered") from None
    if to == S.PAID:
        _pay(locked, user, paid_on, voucher_no.strip())
    previous = locked.status
    locked.status = to
    locked.save()
    ClaimStatusChange.objects.create(claim=locked, from_status=previous, to_status=to, by=user, reason=reason)
    registration.claim_deadline_track(locked, user=user)
    return locked


@transaction.atomic
def claim_payment_reversed(*, claim: Claim, user, reason: str) -> Claim:
    """Finance reversed the claim's payment (a transfer returned by the bank, a double payment):
    the claim is APPROVED again with its approved amount, ready to be paid anew; the payment
    date and voucher are cleared, a ClaimStatusChange records who and why, and the service
    deadline re-opens. Not in TRANSITIONS (no button makes a paid claim unpaid): finance's
    `ledger_entry_reverse` calls it inside the reversal's transaction, so the fund and the claim
    move together or not at all."""
    locked = Claim.objects.select_for_update().get(pk=claim.pk)
    if locked.status != S.PAID:
        raise TransitionRefused(
            _("A claim that is %(from)s cannot become %(to)s.") % {"from": S(locked.status).label, "to": S.APPROVED.label},
            code="transition",
        )
    if not user.has_perm("claims.pay_claim"):
        raise PermissionDenied(_("You may not make a claim %(to)s.") % {"to": S.APPROVED.label})
    locked.status, locked.paid_on, locked.payment_voucher = S.APPROVED, None, ""
    locked.save()
    with translation.override(settings.LANGUAGE_CODE):  # stored text: the installation's language
        note = _("payment reversed: %(reason)s") % {"reason": reason.strip()}
    ClaimStatusChange.objects.create(claim=locked, from_status=S.PAID, to_status=S.APPROVED, by=user, reason=note)
    registration.claim_deadline_track(locked, user=user)
    return locked


def _records(claim: Claim) -> list:
    rows = Settlement.objects.filter(claim=claim).order_by("enddate", "setl_time", "id").values_list(*ROW_FIELDS)
    records = [row_record(r) for r in rows]
    if not records:
        raise TransitionRefused(_("The claim has no settlement record to calculate."), code="empty")
    return records


def _trial(claim: Claim) -> Decimal:
    """What the engine would pay now, on top of the person's approved totals (nothing stored
    but the figure: approval recomputes under the lock)."""
    evaluation, _before = trial_calculate(contract=claim.contract, person=claim.person, records=_records(claim))
    return sum((r.payable for r in evaluation.results), Decimal("0"))


def claim_deductions(claim: Claim) -> dict[str, RecordDeduction]:
    """The reviewer's deductions on the claim's records, by setl_id (amounts summed)."""
    out: dict[str, RecordDeduction] = {}
    for d in Deduction.objects.filter(claim=claim).select_related("settlement").order_by("id"):
        prev = out.get(d.settlement.setl_id, RecordDeduction(Decimal("0.00")))
        out[d.settlement.setl_id] = RecordDeduction(prev.amount + d.amount, (*prev.reasons, d.reason))
    return out


def _exceeds(exc: DeductionExceedsPayable) -> TransitionRefused:
    return TransitionRefused(named(_("deduction amount"), _(
        "the deductions on record %(setl_id)s total %(deducted)s, more than its payable %(payable)s."
    ) % {"setl_id": exc.setl_id, "deducted": f"{exc.deducted:,.2f}", "payable": f"{exc.payable:,.2f}"}), code="deduction")


def trial_with_deductions(claim: Claim):
    """The claim's records through the engine now (on the person's approved totals), each with
    the reviewer's deductions applied: [(setl_id, engine payable, payable after deductions,
    explanation steps)]. What the reviewer reads before approving; writes nothing."""
    evaluation, _before = trial_calculate(contract=claim.contract, person=claim.person, records=_records(claim))
    deductions = claim_deductions(claim)
    rows = []
    for result in evaluation.results:
        steps = explanation_steps(result.explanation)
        payable = result.payable
        deduction = deductions.get(result.setl_id or "")
        if deduction is not None:
            try:
                payable, _by, steps, _taken = apply_deduction(steps, payable, dict(result.by_liability), deduction,
                                                              result.setl_id or "")
            except DeductionExceedsPayable as exc:
                raise _exceeds(exc) from None
        rows.append((result.setl_id, result.payable, payable, steps))
    return rows


@transaction.atomic
def claim_deduction_record(*, claim: Claim, settlement: Settlement, amount: Decimal, reason: str, user) -> Deduction:
    """A reviewer's deduction (拒付/扣减) on one record of a manual claim under review: the
    approval then pays the engine's amount less it. Refused, naming the field, when negative or
    zero, without a reason, or when the record's deductions would exceed what the engine pays
    on it now. Audited (django-simple-history: who, when, the reason)."""
    if not user.has_perm("claims.record_deduction"):
        raise PermissionDenied(_("You may not record deductions."))
    locked = Claim.objects.select_for_update().get(pk=claim.pk)
    if locked.status != S.SUBMITTED:
        raise TransitionRefused(_("Deductions are recorded while the claim is submitted for review."), code="deduction")
    if settlement.claim_id != locked.pk:
        raise TransitionRefused(named(_("settlement record"), _("not a record of this claim.")), code="deduction")
    label = _("deduction amount")
    if amount is None or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": named(label, _("enter an amount in yuan with at most two decimals."))})
    if amount < 0:
        raise ValidationError({"amount": named(label, _("cannot be negative."))})
    if amount == 0:
        raise ValidationError({"amount": named(label, _("must be greater than zero."))})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": named(_("deduction reason"), _("say why the amount is deducted."))})
    try:
        check_text(reason, max_length=2000)
    except ValidationError as exc:
        raise ValidationError({"reason": named(_("deduction reason"), " ".join(exc.messages))}) from None
    try:
        evaluation, _before = trial_calculate(contract=locked.contract, person=locked.person, records=_records(locked))
    except NotCovered as exc:
        raise TransitionRefused(str(exc), code="not_covered") from None
    payable = next(r.payable for r in evaluation.results if r.setl_id == settlement.setl_id)
    already = sum((d.amount for d in Deduction.objects.filter(claim=locked, settlement=settlement)), Decimal("0.00"))
    if already + amount > payable:
        raise ValidationError({"amount": named(label, _(
            "%(amount)s would bring the deductions on record %(setl_id)s to %(total)s, more than its payable %(payable)s."
        ) % {"amount": f"{amount:,.2f}", "setl_id": settlement.setl_id, "total": f"{already + amount:,.2f}",
             "payable": f"{payable:,.2f}"})})
    deduction = Deduction(settlement=settlement, claim=locked, amount=amount, reason=reason, recorded_by=user)
    deduction.full_clean()
    deduction._history_user = user
    deduction._change_reason = reason[:100]
    deduction.save()
    return deduction


def _approve(claim: Claim, user) -> None:
    records = _records(claim)
    try:
        calculations = calculation_commit(contract=claim.contract, person=claim.person, records=records, user=user,
                                          deductions=claim_deductions(claim))
    except DeductionExceedsPayable as exc:  # the payable fell below the deductions since they were recorded
        raise _exceeds(exc) from None
    for calc in calculations:
        calc.claim = claim
    type(calculations[0]).objects.bulk_update(calculations, ["claim"])
    claim.payable = sum((c.payable for c in calculations), Decimal("0"))
    claim.approved_by = user
    claim.approved_at = timezone.now()


def _pay(claim: Claim, user, paid_on, voucher_no: str) -> None:
    """Record the payment and book it in the same transaction (finance's handler, registered
    in claims.hooks, debits the fund the contract's terms name). Refused, naming the fields,
    without payee account, payment date and voucher number."""
    missing = [label for label, value in ((_("payee account"), claim.bank_account.strip()),
                                          (_("payment date"), paid_on), (_("voucher number"), voucher_no)) if not value]
    if missing:
        raise TransitionRefused(_("A payment needs %(fields)s.") % {"fields": "、".join(missing)}, code="payment")
    claim.paid_on, claim.payment_voucher = paid_on, voucher_no
    hooks.claim_paid_notify(hooks.ClaimPayment(claim=claim, amount=claim.payable, paid_on=paid_on, voucher_no=voucher_no,
                                               payee_account=claim.bank_account.strip(), user=user))

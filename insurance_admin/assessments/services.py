"""Writes of the assessments app: daily supervision records, warnings, computing an assessment
(a draft with every item's score) and deciding it (the outcome and its money, booked through
`finance.services` — never a ledger row written here).

Outcome rules (seeds 002 art. 42, 004 art. 36; the template's data give the numbers):
- passed (the grade's band says so): the deposit tied to the assessment is returned in full;
  a passed re-review meets the re-review deadline;
- failed for the first time: rectify and re-review within the template's working days (a
  deadline of kind "assessment re-review"); the deposit stays held;
- failed again (a failed re-review, or a failed assessment after an earlier failed one that no
  re-review passed): termination warning (recorded as a warning) and the template's share of
  the deposit forfeited;
- an annual assessment also deducts premium by the template's rule (Tongliao: the last
  installment "according to the assessment up to November"), whatever its grade.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from finance import services as finance
from finance.models import GuaranteeDeposit, PremiumInstallment
from insurance_admin.core.deadlines import deadline_meet, deadline_track
from insurance_admin.core.money import CENT, fmt_money, share_of, to_money
from insurance_admin.core.workdays import load_calendar
from insurance_admin.kpis import registry

from .models import (
    Assessment,
    AssessmentItem,
    AssessmentTemplate,
    GradeBand,
    ItemScore,
    SupervisionRecord,
    SupervisionWarning,
    fmt_number,
    fmt_points,
    fmt_signed,
)

HUNDRED = Decimal("100")
ZERO = Decimal("0.00")
DEADLINE_KIND = "assessment_rereview"
DEADLINE_ROLE = "supervisor"


def _stored():
    """Text stored on rows is in the installation's language (as the finance memos)."""
    return translation.override(settings.LANGUAGE_CODE)


# --- template validation -------------------------------------------------------------------


def check_weights(items: list[tuple[str, Decimal]]) -> None:
    """The items' weights must sum to exactly 100 points; the error names every item and its weight."""
    total = sum((w for _n, w in items), Decimal("0"))
    if total != HUNDRED:
        listing = _(", ").join(f"{name} {fmt_points(weight)}" for name, weight in items)
        raise ValidationError(_("The weights of the items must sum to 100 points; they sum to %(total)s (%(items)s).") % {
            "total": fmt_points(total), "items": listing or "—"}, code="weights")


def check_grades(bands: list[tuple[str, Decimal]]) -> None:
    """Grade bands: at least one, one of them from 0 points, none above 100."""
    if not bands:
        raise ValidationError(_("Enter the grade bands."), code="grades")
    if all(m != 0 for _l, m in bands):
        raise ValidationError(_("One grade must start at 0 points, so that every score has a grade."), code="grades")
    for label, minimum in bands:
        if minimum > HUNDRED:
            raise ValidationError(_("Grade “%(grade)s” starts above 100 points.") % {"grade": label}, code="grades")


def template_validate(template: AssessmentTemplate) -> None:
    """Everything an assessment needs from its template; the messages name the item at fault."""
    items = list(template.items.order_by("seq"))
    if not items:
        raise ValidationError(_("The template has no items."))
    errors = []
    for item in items:
        try:
            item.clean()
        except ValidationError as exc:
            errors.extend(exc.messages)
    try:
        check_weights([(i.name, i.weight) for i in items])
    except ValidationError as exc:
        errors.extend(exc.messages)
    try:
        check_grades([(b.label, b.min_score) for b in template.grades.all()])
    except ValidationError as exc:
        errors.extend(exc.messages)
    try:
        template.clean()
    except ValidationError as exc:
        errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)


# --- scoring (pure) ------------------------------------------------------------------------


def score_measured(item: AssessmentItem, value: Decimal | None) -> tuple[Decimal, str]:
    """(points, basis) of a measured item for the KPI's value."""
    weight = item.weight
    try:
        kpi = registry.get(item.kpi_key)
        label, unit = str(kpi.label), kpi.unit
    except KeyError:
        raise ValidationError(_("Item “%(item)s” names an unknown indicator.") % {"item": item.name}) from None
    if value is None:
        return weight, _("%(kpi)s: no data in the period; full points.") % {"kpi": label}
    short = (value - item.full_at) if item.lower_is_better else (item.full_at - value)
    values = {"kpi": label, "value": fmt_number(value), "unit": unit, "full": fmt_number(item.full_at),
              "weight": fmt_points(weight), "per": fmt_number(item.points_per_unit)}
    if short <= 0:
        return weight, _("%(kpi)s %(value)s%(unit)s, full points from %(full)s%(unit)s: %(weight)s") % values
    points = max(ZERO, (weight - short * item.points_per_unit).quantize(CENT, ROUND_HALF_UP))
    values.update(short=fmt_number(short), points=fmt_points(points))
    return points, _("%(kpi)s %(value)s%(unit)s, full points from %(full)s%(unit)s: %(weight)s − %(short)s × %(per)s "
                     "= %(points)s (at least 0)") % values


def score_inspected(item: AssessmentItem, delta: Decimal, count: int) -> tuple[Decimal, str]:
    """(points, basis) of an inspected item from the sum of its records' points."""
    weight = item.weight
    points = min(weight, max(ZERO, weight + delta)).quantize(CENT)
    if not count:
        return points, _("No daily supervision record in the period: %(weight)s") % {"weight": fmt_points(weight)}
    return points, _("%(count)s daily supervision records, %(delta)s points in all: %(weight)s %(delta)s = %(points)s "
                     "(between 0 and %(weight)s)") % {"count": count, "delta": fmt_signed(delta), "weight": fmt_points(weight),
                                                      "points": fmt_points(points)}


def grade_for(bands: list[GradeBand], total: Decimal) -> GradeBand:
    """The band with the highest minimum at or below the total."""
    for band in sorted(bands, key=lambda b: b.min_score, reverse=True):
        if total >= band.min_score:
            return band
    raise ValidationError(_("No grade covers %(total)s points.") % {"total": fmt_points(total)})


# --- records and warnings ------------------------------------------------------------------


@transaction.atomic
def supervision_record_add(*, contract, area, item: AssessmentItem, on_date: dt.date, points: Decimal, finding: str, user,
                           evidence=None) -> SupervisionRecord:
    record = SupervisionRecord(contract=contract, area=area, item=item, on_date=on_date, points=points,
                               finding=finding.strip(), recorded_by=user)
    if evidence is not None:
        record.evidence = evidence
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def warning_record(*, contract, kind: str, on_date: dt.date, reason: str, user, assessment: Assessment | None = None,
                   rectify_by: dt.date | None = None) -> SupervisionWarning:
    if not reason.strip():
        raise ValidationError({"reason": _("Say what the warning is about.")})
    warning = SupervisionWarning(contract=contract, assessment=assessment, kind=kind, on_date=on_date, reason=reason.strip(),
                                 rectify_by=rectify_by, recorded_by=user)
    warning.full_clean()
    warning.save()
    return warning


# --- computing -----------------------------------------------------------------------------


def template_for(contract) -> AssessmentTemplate | None:
    """The contract's template, from the database only (the seed contracts' come from the
    migration and `seed_contracts`); None when the contract has none."""
    return AssessmentTemplate.objects.filter(contract=contract).first()


def _template_of(contract) -> AssessmentTemplate:
    template = template_for(contract)
    if template is None:
        raise ValidationError(_("This contract has no assessment template."))
    return template


@transaction.atomic
def assessment_compute(*, contract, period_start: dt.date, period_end: dt.date, user,
                       rereview_of: Assessment | None = None) -> Assessment:
    """A draft assessment of the period: every item's score (measured from its KPI over the
    period for the whole contract, inspected from the period's daily records), the total and the
    grade. Nothing is booked until it is decided."""
    if period_start > period_end:
        raise ValidationError(_("The period ends before it starts."))
    template = _template_of(contract)
    template_validate(template)
    if rereview_of is not None:
        if rereview_of.contract_id != contract.pk or rereview_of.status != Assessment.Status.DECIDED or rereview_of.passed:
            raise ValidationError(_("Only a decided, failed assessment of this contract is re-reviewed."))
        if rereview_of.rereviews.filter(status=Assessment.Status.DECIDED).exists():
            raise ValidationError(_("This assessment has been re-reviewed already."))
    items = list(template.items.order_by("seq"))
    rows = []
    with _stored():
        for item in items:
            if item.kind == AssessmentItem.Kind.MEASURED:
                value = registry.get(item.kpi_key).func(contract, None, period_start, period_end)
                points, basis = score_measured(item, value)
            else:
                records = SupervisionRecord.objects.filter(contract=contract, item=item, on_date__range=(period_start, period_end))
                got = records.aggregate(s=Sum("points"))
                value, count = None, records.count()
                points, basis = score_inspected(item, got["s"] or ZERO, count)
            rows.append((item, value, points, basis))
    total = sum((p for _i, _v, p, _b in rows), ZERO)
    band = grade_for(list(template.grades.all()), total)
    assessment = Assessment(
        template=template, contract=contract, kind=Assessment.Kind.REREVIEW if rereview_of else Assessment.Kind.ANNUAL,
        rereview_of=rereview_of, period_start=period_start, period_end=period_end, total=total, grade=band.label,
        passed=band.passed, created_by=user,
    )
    assessment.full_clean()
    assessment.save()
    ItemScore.objects.bulk_create([
        ItemScore(assessment=assessment, item=item, weight=item.weight, value=value, points=points, basis=basis[:400])
        for item, value, points, basis in rows
    ])
    return assessment


# --- deciding ------------------------------------------------------------------------------


def references(assessment: Assessment) -> list[str]:
    """The ledger references of the entries an assessment books (unique per ledger book)."""
    return [deduction_reference(assessment), deposit_reference(assessment)]


def deduction_reference(assessment: Assessment) -> str:
    return f"考核{assessment.pk}扣减"


def deposit_reference(assessment: Assessment) -> str:
    return f"考核{assessment.pk}保证金"


def _installment(template: AssessmentTemplate) -> PremiumInstallment:
    installment = PremiumInstallment.objects.filter(contract_id=template.contract_id, seq=template.deduction_installment_seq).first()
    if installment is None:
        raise ValidationError(_("Premium installment no. %(seq)s does not exist yet: the premium schedule is generated first.") % {
            "seq": template.deduction_installment_seq})
    return installment


def deduction_for(assessment: Assessment) -> tuple[Decimal, str, PremiumInstallment | None]:
    """(amount, basis, installment) of the premium deduction of an annual assessment by its
    template's rule; (0, "", None) when the rule deducts nothing."""
    template = assessment.template
    method = template.deduction_method
    if assessment.kind != Assessment.Kind.ANNUAL or method == AssessmentTemplate.Deduction.NONE:
        return ZERO, "", None
    if method == AssessmentTemplate.Deduction.PER_POINT:
        short = template.deduction_threshold - assessment.total
        if short <= 0:
            return ZERO, "", None
        installment = _installment(template)
        cap = installment.cash_due
        amount = min(to_money(short * template.deduction_per_point), cap)
        basis = _("(%(threshold)s − %(total)s) points × %(per)s per point = %(amount)s, at most installment no. %(seq)s "
                  "(%(cap)s)") % {"threshold": fmt_points(template.deduction_threshold), "total": fmt_points(assessment.total),
                                  "per": fmt_money(template.deduction_per_point), "amount": fmt_money(amount),
                                  "seq": installment.seq, "cap": fmt_money(cap)}
        return amount, basis, installment
    band = grade_for(list(template.grades.all()), assessment.total)
    share = band.deduction_share or Decimal("0")
    if not share:
        return ZERO, "", None
    installment = _installment(template)
    amount = share_of(installment.cash_due, share)
    basis = _("Grade %(grade)s: %(share)s of installment no. %(seq)s (%(cash)s) = %(amount)s") % {
        "grade": band.label, "share": f"{fmt_number(share * 100)}%", "seq": installment.seq,
        "cash": fmt_money(installment.cash_due), "amount": fmt_money(amount)}
    return amount, basis, installment


def _failed_before(assessment: Assessment) -> bool:
    """A failure is the second one when it is a re-review, or when the contract's last decided
    assessment before it failed too (and no passed re-review came in between)."""
    if assessment.kind == Assessment.Kind.REREVIEW:
        return True
    previous = (Assessment.objects.filter(contract_id=assessment.contract_id, status=Assessment.Status.DECIDED)
                .exclude(pk=assessment.pk).order_by("-assessed_on", "-id").first())
    return previous is not None and not previous.passed


def _deposit(template: AssessmentTemplate) -> GuaranteeDeposit | None:
    if not template.deposit_kind:
        return None
    return GuaranteeDeposit.objects.filter(contract_id=template.contract_id, kind=template.deposit_kind).first()


@transaction.atomic
def assessment_decide(*, assessment: Assessment, assessed_on: dt.date, user) -> Assessment:
    """Fix the outcome of a computed assessment and apply it: the re-review deadline, the
    warning, the premium deduction and the deposit's return or forfeiture (each a ledger entry
    whose reference names this assessment). Once only."""
    assessment = Assessment.objects.select_for_update().select_related("template", "contract__program").get(pk=assessment.pk)
    if assessment.status != Assessment.Status.DRAFT:
        raise ValidationError(_("This assessment is decided already."))
    if assessed_on < assessment.period_end:
        raise ValidationError({"assessed_on": _("An assessment is decided after the period it covers.")})
    contract, template = assessment.contract, assessment.template
    original = assessment.rereview_of
    if original is not None and original.rereviews.filter(status=Assessment.Status.DECIDED).exists():
        raise ValidationError(_("This assessment has been re-reviewed already."))
    if assessment.kind == Assessment.Kind.ANNUAL and Assessment.objects.filter(
            contract=contract, kind=Assessment.Kind.ANNUAL, status=Assessment.Status.DECIDED,
            period_start=assessment.period_start, period_end=assessment.period_end).exists():
        raise ValidationError(_("An assessment of this period is decided already."))
    notes = []
    with _stored():
        if assessment.passed:
            outcome = Assessment.Outcome.PASS
        elif _failed_before(assessment):
            outcome = Assessment.Outcome.TERMINATION_WARNING
        else:
            outcome = Assessment.Outcome.RECTIFY
        assessment.status, assessment.outcome, assessment.assessed_on, assessment.decided_by = (
            Assessment.Status.DECIDED, outcome, assessed_on, user)
        assessment.save()  # the pk-based references below exist before any entry is booked
        link = reverse("assessments:assessment_detail", args=[assessment.pk])
        label = _("%(contract)s: re-review of the %(period)s assessment") % {
            "contract": contract.name, "period": f"{assessment.period_start}–{assessment.period_end}"}

        # the re-review deadline: opened by a first failure, met by the re-review's decision
        if outcome == Assessment.Outcome.RECTIFY:
            due = load_calendar().add_working_days(assessed_on, template.rereview_working_days)
            assessment.rereview_due = due.date
            deadline_track(kind=DEADLINE_KIND, obj=assessment, due_date=due.date, label=label[:200], role=DEADLINE_ROLE,
                           contract_id=contract.pk, area_id=contract.program.region_id, working_days=True,
                           provisional=due.provisional, link=link,
                           rule=_("re-review within %(days)s working days after a failed assessment") % {
                               "days": template.rereview_working_days})
        if original is not None:
            deadline_meet(kind=DEADLINE_KIND, obj=original, on=assessed_on, what=_("re-review decided"), by=user)

        # the premium deduction by the annual assessment
        amount, basis, installment = deduction_for(assessment)
        if amount > 0:
            reason = _("%(contract)s assessment %(start)s–%(end)s: %(total)s points, %(grade)s") % {
                "contract": contract.name, "start": assessment.period_start, "end": assessment.period_end,
                "total": fmt_points(assessment.total), "grade": assessment.grade}
            assessment.penalty = finance.premium_deduction_book(
                contract=contract, installment=installment, amount=amount, on_date=assessed_on, reason=reason[:300],
                reference=deduction_reference(assessment), user=user)
            if assessment.penalty.settled < amount:
                notes.append(_("%(open)s of the deduction could not be set off against the installment and is still to be "
                               "settled.") % {"open": fmt_money(amount - assessment.penalty.settled)})
        assessment.deduction_amount, assessment.deduction_basis = amount, basis[:300]

        # the deposit tied to the assessment
        deposit = _deposit(template)
        if deposit is not None and deposit.held > 0:
            if outcome == Assessment.Outcome.PASS:
                if deposit.objection:
                    notes.append(_("An objection is open on the deposit: it is not returned yet."))
                elif template.deposit_needs_cases_closed and deposit.cases_closed_on is None:
                    notes.append(_("The deposit is returned once the year's cases are closed without objection."))
                else:
                    assessment.deposit_entry = finance.deposit_return(
                        deposit=deposit, amount=deposit.held, returned_on=assessed_on, user=user,
                        reference=deposit_reference(assessment))
            elif outcome == Assessment.Outcome.TERMINATION_WARNING:
                forfeit = share_of(deposit.held, template.deposit_forfeit_share)
                if forfeit > 0:
                    assessment.deposit_entry = finance.deposit_forfeit(
                        deposit=deposit, amount=forfeit, on_date=assessed_on, user=user, reference=deposit_reference(assessment),
                        reason=_("Forfeited: %(contract)s failed the re-review") % {"contract": contract.name})
            else:
                notes.append(_("The deposit stays held until the re-review."))
        elif template.deposit_kind:
            notes.append(_("No deposit is held."))

        if outcome == Assessment.Outcome.TERMINATION_WARNING:
            warning_record(contract=contract, kind=SupervisionWarning.Kind.TERMINATION, on_date=assessed_on, user=user,
                           assessment=assessment,
                           reason=_("Failed again (%(total)s points, %(grade)s): the authority may terminate the contract.") % {
                               "total": fmt_points(assessment.total), "grade": assessment.grade})
        assessment.finance_note = " ".join(str(n) for n in notes)[:300]
    assessment.full_clean()
    assessment.save()
    return assessment

"""The window's claim pages: register, list (filter, export), detail with documents,
deadline, actions; the one-time notice of missing documents. Views check permission and
scope, validate input, call one service and report its result."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from insurance_admin.core.masking import can_see_full_identity
from insurance_admin.core.pdf import render_pdf
from insurance_admin.core.workdays import load_calendar
from programs.identity_access import identity_access_record, identity_access_record_persons

from . import registration, services
from .carry import CARRY_FLAG, carried_initial
from .filters import ClaimFilter
from .forms import (
    ClaimDeductionForm,
    ClaimRegistrationForm,
    DocumentsForm,
    ExtensionForm,
    PaymentForm,
    SettlementRecordFormSet,
)
from .hooks import premium_suspension
from .member_views import open_report_for
from .members import phone_report_convert
from .models import Claim, ClaimTerms, DocumentRequirement, SlipPrint
from .presentation import CODE_LABELS, explanation_blocks
from .resources import ClaimExportResource
from .review import claim_review
from .selectors import deadline_overview
from .views import enrolled_or_404
from .workflow import (
    NEEDS_REASON,
    TRANSITIONS,
    TransitionRefused,
    claim_deduction_record,
    claim_transition,
    transition_verb,
)

S = Claim.Status


def _claim_for(user, pk: int) -> Claim:
    qs = Claim.objects.for_user(user).select_related("contract__program", "person", "area", "registered_by", "approved_by")
    return get_object_or_404(qs, pk=pk)


@login_required
@permission_required("claims.add_claim", raise_exception=True)
def claim_register_view(request, person_pk: int, contract_code: str):
    user = request.user
    person, contract, enrollment = enrolled_or_404(user, person_pk, contract_code)
    plan = services.plan_of(contract).engine_plan()
    requirements = DocumentRequirement.objects.filter(program=contract.program)
    carried = request.method == "POST" and bool(request.POST.get(CARRY_FLAG))
    data = request.POST if request.method == "POST" and not carried else None
    form = ClaimRegistrationForm(data, plan=plan, requirements=requirements, prefix="c")
    formset = SettlementRecordFormSet(data, plan=plan, prefix="r")
    if carried:  # from a 试算: its figures as the forms' initial values; nothing registered yet
        claim_initial, records_initial = carried_initial(request.POST, form.fields, formset.empty_form.fields)
        form = ClaimRegistrationForm(plan=plan, requirements=requirements, prefix="c",
                                     initial={**form.initial, **claim_initial})
        formset = SettlementRecordFormSet(plan=plan, prefix="r", initial=records_initial)
    refusal = None
    # started from a claim reported by phone (报案): marked as registered with the claim, in the
    # same transaction; its summary prefills the notes
    report = open_report_for(user, request, person, contract)
    if report is not None and data is None and not carried:
        form = ClaimRegistrationForm(plan=plan, requirements=requirements, prefix="c",
                                     initial={**form.initial, "notes": report.summary})
    if data is not None and form.is_valid() and formset.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                claim = registration.claim_register(
                    user=user, person=person, contract=contract, claim_kind=d["claim_kind"], place=d.get("place", ""),
                    fixmedins_code=d["fixmedins_code"], fixmedins_name=d["fixmedins_name"], hosp_lv=d.get("hosp_lv", ""),
                    begndate=d["begndate"], enddate=d["enddate"],
                    records=[f.record() for f in formset.forms if f.has_changed()],
                    documents=list(d["documents"]), received_on=d["received_on"],
                    payee_name=d["payee_name"], bank_name=d["bank_name"], bank_account=d["bank_account"], notes=d["notes"],
                    confirm_duplicate=d["confirm_duplicate"],
                )
                if report is not None:
                    phone_report_convert(report=report, claim=claim, user=user)
        except registration.RegistrationRefused as exc:
            refusal = exc
        else:
            messages.success(request, _("Claim %(no)s registered.") % {"no": claim.claim_no})
            return redirect("claim_detail", claim.pk)
    identity_access_record(user=user, person=person, where=request.path)
    return render(request, "claims/register.html", {
        "person": person, "contract": contract, "enrollment": enrollment, "form": form, "formset": formset,
        "refusal": refusal, "requirements": requirements, "code_labels": CODE_LABELS, "report": report,
    })


@login_required
@permission_required("claims.view_claim", raise_exception=True)
def claim_list(request):
    user = request.user
    base = Claim.objects.for_user(user).select_related("contract", "person", "area").order_by("due_date", "-registered_at")
    claim_filter = ClaimFilter(request.GET or None, queryset=base, request=request)
    qs = claim_filter.qs if claim_filter.is_bound else base
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        dataset = ClaimExportResource().export(qs)
        content = dataset.csv.encode("utf-8-sig") if export == "csv" else dataset.xlsx
        kind = "text/csv; charset=utf-8" if export == "csv" else (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response = HttpResponse(content, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="claims-{timezone.localdate():%Y%m%d}.{export}"'
        return response
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    claims = list(page)
    terms = {t.contract_id: t for t in ClaimTerms.objects.filter(contract_id__in={c.contract_id for c in claims})}
    calendar = load_calendar()
    rows = [(c, registration.deadline_status(c, today, terms_by_contract=terms, calendar=calendar)) for c in claims]
    # the list shows full ID numbers to the roles entitled to them: one access record per person
    identity_access_record_persons(user=user, persons=list({c.person_id: c.person for c in claims}.values()),
                                   where=request.path)
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("export", None)
    without_area_code = params.copy()
    without_area_code.pop("area_code", None)
    return render(request, "claims/list.html", {
        "filter": claim_filter, "page": page, "rows": rows, "query": params.urlencode(),
        "query_without_area_code": without_area_code.urlencode(), "full_identity": can_see_full_identity(user),
    })


@login_required
@permission_required("claims.view_claim", raise_exception=True)
def claim_detail(request, pk: int):
    user = request.user
    claim = _claim_for(user, pk)
    requirements = registration.requirements_for(program=claim.contract.program, claim_kind=claim.claim_kind, place=claim.place)
    received = {d.requirement_id: d for d in claim.documents.select_related("received_by")}
    missing_qs = DocumentRequirement.objects.filter(pk__in=[r.pk for r in requirements if r.pk not in received])
    actions = [
        {"to": to, "label": transition_verb(claim.status, to), "needs_reason": to in NEEDS_REASON}
        for to, perm in TRANSITIONS[claim.status].items() if user.has_perm(perm)
        and not (to == S.APPROVED and user.pk == claim.registered_by_id)
    ]
    # approving has its own form, below the facts the reviewer confirms having checked
    approve = next((a for a in actions if a["to"] == S.APPROVED), None)
    actions = [a for a in actions if a["to"] != S.APPROVED]
    under_review = claim.status in (S.CALCULATED, S.SUBMITTED)
    can_deduct = claim.status == S.SUBMITTED and user.has_perm("claims.record_deduction")
    calculations = list(claim.calculations.order_by("id"))
    terms = registration.terms_of(claim.contract)
    can_extend = (
        user.has_perm("claims.change_claim") and terms is not None and terms.extended_days is not None
        and claim.place in terms.out_of_area_places and not claim.extension_reason
        and claim.documents_complete_on is not None and claim.status not in registration.CLOSED
    )
    identity_access_record(user=user, person=claim.person, where=request.path)
    return render(request, "claims/detail.html", {
        "claim": claim,
        "deadline": registration.deadline_status(claim),
        "requirements": [(r, received.get(r.pk)) for r in requirements],
        "documents_form": DocumentsForm(requirements=missing_qs, initial={"received_on": timezone.localdate()})
        if missing_qs and claim.status in (S.REGISTERED, S.RETURNED) and user.has_perm("claims.change_claim") else None,
        "missing": registration.missing_documents(claim),
        "settlements": claim.settlements.order_by("enddate", "id"),
        "actions": actions,
        "approve": approve,
        "review": claim_review(claim) if under_review else None,
        "deductions": claim.deductions.select_related("settlement", "recorded_by").order_by("id"),
        "deduction_form": ClaimDeductionForm(settlements=claim.settlements.order_by("enddate", "id"), prefix="d")
        if can_deduct else None,
        "calculations": [
            {"calc": c, "blocks": explanation_blocks(c.explanation)} for c in calculations
        ],
        "changes": claim.status_changes.select_related("by"),
        "extension_form": ExtensionForm() if can_extend else None,
        "terms": terms,
        "slip_copies": SlipPrint.objects.filter(slip__claim=claim).count(),
        "suspension": _premium_suspension(claim) if claim.status in (S.CALCULATED, S.SUBMITTED) else [],
        "payment_form": PaymentForm(initial={"paid_on": timezone.localdate()})
        if any(a["to"] == S.PAID for a in actions) else None,
        "code_labels": CODE_LABELS,
        "full_identity": can_see_full_identity(user),
    })


def _premium_suspension(claim: Claim) -> list:
    """Unpaid overdue premium installments that suspend the insurer's liability (seeds 001, 002,
    004) for this claim: those already overdue on its discharge date (以出院日期为准) and still
    unpaid. The reviewer is warned before approving; the decision stays theirs. An installment
    falling due after the stay does not touch it."""
    return premium_suspension(claim.contract, claim.enddate)


@login_required
@require_POST
def claim_transition_view(request, pk: int):
    claim = _claim_for(request.user, pk)
    to = request.POST.get("to", "")
    if to not in S.values:
        raise Http404
    if to == S.APPROVED and request.POST.get("confirm_review") != "1":
        # the form's checkbox is `required` (no JavaScript needed); this holds without the browser's check too
        messages.error(request, _("To approve, first confirm that you have checked the calculation, the platform "
                                  "check and the duplicate warnings."))
        return redirect("claim_detail", claim.pk)
    payment = PaymentForm(request.POST) if to == S.PAID else None
    if payment is not None and not payment.is_valid():
        messages.error(request, " ".join(e for errors in payment.errors.values() for e in errors))
        return redirect("claim_detail", claim.pk)
    try:
        claim = claim_transition(claim=claim, to=to, user=request.user, reason=request.POST.get("reason", ""),
                                 **(payment.cleaned_data if payment is not None else {}))
    except (TransitionRefused, ValidationError) as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Claim %(no)s is now %(status)s.") % {"no": claim.claim_no, "status": claim.get_status_display()})
        if to == S.APPROVED and (suspended := _premium_suspension(claim)):
            messages.warning(request, _("Approved while premium is overdue: %(list)s. The contract suspends the insurer's "
                                        "liability for unpaid premium.") % {"list": _installments(suspended)})
    return redirect("claim_detail", claim.pk)


def _installments(items) -> str:
    return "；".join(f"{i.terms_display}（{i.due_date:%Y-%m-%d}，{i.outstanding:,.2f}）" for i in items)


@login_required
@require_POST
@permission_required("claims.record_deduction", raise_exception=True)
def claim_deduction_view(request, pk: int):
    """A reviewer's deduction (拒付/扣减) on a record of a manual claim under review."""
    claim = _claim_for(request.user, pk)
    settlements = claim.settlements.order_by("enddate", "id")
    form = ClaimDeductionForm(request.POST, settlements=settlements, prefix="d")
    try:
        if not form.is_valid():
            raise ValidationError([m for errors in form.errors.values() for m in errors])
        data = form.cleaned_data
        deduction = claim_deduction_record(claim=claim, settlement=settlements.get(pk=data["settlement"]),
                                           amount=data["amount"], reason=data["reason"], user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Deduction of %(amount)s recorded on %(setl_id)s; approval pays the engine's amount "
                                    "less it.") % {"amount": f"{deduction.amount:,.2f}", "setl_id": deduction.settlement.setl_id})
    return redirect(reverse("claim_detail", args=[claim.pk]) + "#deductions")


@login_required
@require_POST
@permission_required("claims.change_claim", raise_exception=True)
def claim_documents_view(request, pk: int):
    claim = _claim_for(request.user, pk)
    form = DocumentsForm(request.POST, requirements=DocumentRequirement.objects.filter(program=claim.contract.program),
                         enddate=claim.enddate)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect("claim_detail", claim.pk)
    try:
        claim = registration.claim_documents_receive(
            claim=claim, documents=list(form.cleaned_data["documents"]), received_on=form.cleaned_data["received_on"], user=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Documents recorded."))
    return redirect("claim_detail", claim.pk)


@login_required
@require_POST
@permission_required("claims.change_claim", raise_exception=True)
def claim_extend_view(request, pk: int):
    claim = _claim_for(request.user, pk)
    form = ExtensionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([m for errors in form.errors.values() for m in errors])
        with transaction.atomic():
            claim = registration.claim_extend(claim=claim, reason=form.cleaned_data["reason"], user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Deadline extended to %(date)s.") % {"date": claim.due_date})
    return redirect("claim_detail", claim.pk)


@login_required
@permission_required("claims.view_claim", raise_exception=True)
def claim_notice_pdf(request, pk: int):
    """一次性告知书: every missing document at once, so the person comes back only once."""
    claim = _claim_for(request.user, pk)
    pdf = render_pdf("claims/notice.html", {
        "claim": claim,
        "missing": registration.missing_documents(claim),
        "received": claim.documents.select_related("requirement"),
        "user": request.user,
        "now": timezone.localtime(),
        "code_labels": CODE_LABELS,
    })
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{claim.claim_no}.pdf"'
    return response


@login_required
@permission_required("claims.view_claim", raise_exception=True)
def claim_deadlines(request):
    """The deadline board: open claims per county, due soon and overdue, linked to the lists."""
    today = timezone.localdate()
    rows, soon = deadline_overview(request.user, today)
    totals = {k: sum(r[k] for r in rows) for k in ("open", "waiting_documents", "due_soon", "overdue")}
    return render(request, "claims/deadlines.html", {
        "rows": rows, "totals": totals, "today": today, "soon": soon, "chart": _deadline_chart(rows, soon),
    })


def _deadline_chart(rows, soon) -> dict:
    """ECharts options (built here, rendered by the vendored library): open claims per county,
    stacked by urgency, so a supervisor sees at a glance where the overdue ones are."""
    series = [
        (_("overdue"), "overdue", "#c0392b"),
        (_("due by %(day)s") % {"day": soon.isoformat()}, "due_soon", "#e0a100"),
        (_("waiting for documents"), "waiting_documents", "#8a93a3"),
        (_("other open claims"), "rest", "#1f4e8c"),
    ]
    for r in rows:
        r["rest"] = r["open"] - r["overdue"] - r["due_soon"] - r["waiting_documents"]
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 40, "right": 16, "top": 36, "bottom": 28},
        "xAxis": {"type": "category", "data": [r["area__name"] for r in rows]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"name": str(name), "type": "bar", "stack": "open", "itemStyle": {"color": color}, "data": [r[key] for r in rows]}
            for name, key, color in series
        ],
    }

"""Assessment pages: the contracts' templates, the daily supervision records, running and
deciding an assessment, warnings.

Reading needs `assessments.view_*`; a county supervisor records the daily supervision of their
county; computing and deciding an assessment and recording a warning concern the whole
contract, so they also need the user to see the contract's whole region (a county-bound user
gets 403). Contracts, records and assessments are looked up through `for_user`: out of area
is a 404."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from finance.models import LedgerEntry
from finance.selectors import areas_for, sees_whole_region
from insurance_admin.core.models import Deadline
from programs.models import Area, Contract

from . import forms, services
from .models import Assessment, SupervisionRecord, SupervisionWarning

VIEW = "assessments.view_assessment"
VIEW_TEMPLATE = "assessments.view_assessmenttemplate"
VIEW_RECORDS = "assessments.view_supervisionrecord"
ADD_RECORD = "assessments.add_supervisionrecord"
RUN = "assessments.add_assessment"
DECIDE = "assessments.decide_assessment"
ADD_WARNING = "assessments.add_supervisionwarning"


def _contracts(user):
    return Contract.objects.for_user(user).select_related("program__region").order_by("-year", "code")


def _contract(user, code: str) -> Contract:
    return get_object_or_404(_contracts(user), code=code)


def _whole_region(user, contract: Contract) -> None:
    if not sees_whole_region(user, contract):
        raise PermissionDenied(_("Only users of the contract's whole region assess it."))


def _error_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@permission_required(VIEW_TEMPLATE, raise_exception=True)
def index(request):
    user = request.user
    rows = []
    for contract in _contracts(user):
        template = services.template_for(contract)
        latest = Assessment.objects.for_user(user).filter(contract=contract).order_by("-period_end", "-id").first()
        rows.append({"contract": contract, "template": template, "latest": latest})
    return render(request, "assessments/index.html", {"rows": rows})


@login_required
@permission_required(VIEW_TEMPLATE, raise_exception=True)
def contract_detail(request, code: str):
    user = request.user
    contract = _contract(user, code)
    template = services.template_for(contract)
    whole = sees_whole_region(user, contract)
    problems = []
    if template is not None:
        try:
            services.template_validate(template)
        except ValidationError as exc:
            problems = exc.messages
    context = {
        "contract": contract,
        "template": template,
        "items": template.items.order_by("seq") if template else [],
        "grades": template.grades.order_by("-min_score") if template else [],
        "problems": problems,
        "assessments": Assessment.objects.for_user(user).filter(contract=contract).order_by("-period_end", "-id")
        if user.has_perm(VIEW) else [],
        "warnings": SupervisionWarning.objects.for_user(user).filter(contract=contract).select_related("recorded_by")
        if user.has_perm(VIEW) else [],
        "can_run": whole and user.has_perm(RUN) and template is not None and not problems,
        "can_warn": whole and user.has_perm(ADD_WARNING),
        "can_record": user.has_perm(ADD_RECORD) and template is not None,
        "warning_form": forms.WarningForm(),
        "deposit_kind_display": dict(template._meta.get_field("deposit_kind").choices).get(template.deposit_kind, "")
        if template else "",
    }
    return render(request, "assessments/contract.html", context)


@login_required
@permission_required(VIEW_RECORDS, raise_exception=True)
def record_list(request):
    user = request.user
    records = SupervisionRecord.objects.for_user(user).select_related("contract", "area", "item", "recorded_by")
    contracts = list(_contracts(user))
    contract = next((c for c in contracts if c.pk == _int(request.GET.get("contract"))), None)
    if contract is not None:
        records = records.filter(contract=contract)
    areas = Area.objects.for_user(user).filter(pk__in=records.values("area_id")).order_by("code")
    area = next((a for a in areas if a.pk == _int(request.GET.get("area"))), None)
    if area is not None:
        records = records.filter(area=area)
    try:
        start = dt.date.fromisoformat(request.GET.get("from", ""))
        records = records.filter(on_date__gte=start)
    except ValueError:
        start = None
    try:
        end = dt.date.fromisoformat(request.GET.get("to", ""))
        records = records.filter(on_date__lte=end)
    except ValueError:
        end = None
    return render(request, "assessments/records.html", {
        "records": records[:500], "contracts": contracts, "contract": contract, "areas": areas, "area": area,
        "start": start, "end": end, "can_record": user.has_perm(ADD_RECORD)})


@login_required
@permission_required(ADD_RECORD, raise_exception=True)
def record_add(request, code: str):
    user = request.user
    contract = _contract(user, code)
    template = services.template_for(contract)
    if template is None:
        raise Http404
    areas = areas_for(user, contract)
    if sees_whole_region(user, contract):
        areas = [contract.program.region, *[a for a in areas if a.pk != contract.program.region_id]]
    form = forms.RecordForm(request.POST or None, request.FILES or None, template=template, areas=areas,
                            initial={"on_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.supervision_record_add(contract=contract, area=d["area"], item=d["item"], on_date=d["on_date"],
                                            points=d["points"], finding=d["finding"], evidence=d["evidence"], user=user)
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, _("The daily supervision record is saved."))
            return redirect(f"{_records_url()}?contract={contract.pk}")
    return render(request, "assessments/record_add.html", {"contract": contract, "form": form})


def _records_url() -> str:
    return reverse("assessments:record_list")


@login_required
@permission_required(VIEW_RECORDS, raise_exception=True)
def record_evidence(request, pk: int):
    record = get_object_or_404(SupervisionRecord.objects.for_user(request.user), pk=pk)
    if not record.evidence:
        raise Http404
    name = record.evidence.name.rsplit("/", 1)[-1]
    return FileResponse(record.evidence.open("rb"), as_attachment=True, filename=name)


@login_required
@permission_required(RUN, raise_exception=True)
def run(request, code: str):
    user = request.user
    contract = _contract(user, code)
    _whole_region(user, contract)
    template = services.template_for(contract)
    if template is None:
        raise Http404
    failed = Assessment.objects.for_user(user).filter(contract=contract, status=Assessment.Status.DECIDED,
                                                      outcome=Assessment.Outcome.RECTIFY)
    initial = {"period_start": contract.period_start, "period_end": template.default_period_end or contract.period_end}
    form = forms.RunForm(request.POST or None, failed=failed, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            assessment = services.assessment_compute(contract=contract, period_start=d["period_start"],
                                                     period_end=d["period_end"], rereview_of=d["rereview_of"], user=user)
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            return redirect("assessments:assessment_detail", pk=assessment.pk)
    return render(request, "assessments/run.html", {"contract": contract, "template": template, "form": form})


@login_required
@permission_required(VIEW, raise_exception=True)
def assessment_detail(request, pk: int):
    user = request.user
    assessment = get_object_or_404(Assessment.objects.for_user(user).select_related("contract__program", "template"), pk=pk)
    entries = LedgerEntry.objects.for_user(user).filter(
        contract_id=assessment.contract_id, reference__in=services.references(assessment)).order_by("id")
    deduction = None
    if assessment.status == Assessment.Status.DRAFT:
        try:
            amount, basis, _installment = services.deduction_for(assessment)
            deduction = {"amount": amount, "basis": basis}
        except ValidationError as exc:
            deduction = {"amount": None, "basis": _error_text(exc)}
    context = {
        "assessment": assessment,
        "contract": assessment.contract,
        "scores": assessment.scores.select_related("item").order_by("item__seq"),
        "entries": entries,
        "deduction": deduction,
        "warnings": assessment.warnings.all(),
        "deadline": _rereview_deadline(assessment),
        "rereviews": assessment.rereviews.all(),
        "can_decide": assessment.status == Assessment.Status.DRAFT and user.has_perm(DECIDE)
        and sees_whole_region(user, assessment.contract),
        "decide_form": forms.DecideForm(),
    }
    return render(request, "assessments/detail.html", context)


def _rereview_deadline(assessment: Assessment):
    return Deadline.objects.filter(kind=services.DEADLINE_KIND, content_type=ContentType.objects.get_for_model(Assessment),
                                   object_id=assessment.pk).first()


@login_required
@permission_required(DECIDE, raise_exception=True)
@require_POST
def assessment_decide(request, pk: int):
    user = request.user
    assessment = get_object_or_404(Assessment.objects.for_user(user), pk=pk)
    _whole_region(user, assessment.contract)
    form = forms.DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the date of the decision."))
        return redirect("assessments:assessment_detail", pk=pk)
    try:
        services.assessment_decide(assessment=assessment, assessed_on=form.cleaned_data["assessed_on"], user=user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The assessment is decided and its outcome applied."))
    return redirect("assessments:assessment_detail", pk=pk)


@login_required
@permission_required(ADD_WARNING, raise_exception=True)
@require_POST
def warning_add(request, code: str):
    user = request.user
    contract = _contract(user, code)
    _whole_region(user, contract)
    form = forms.WarningForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.warning_record(contract=contract, kind=SupervisionWarning.Kind.INTERVIEW, on_date=d["on_date"],
                                    reason=d["reason"], rectify_by=d["rectify_by"], user=user)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("The interview is recorded."))
    else:
        messages.error(request, "；".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("assessments:contract", code=code)


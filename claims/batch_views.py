"""Pages for hospital monthly settlement batches (医院月度即时结算): upload → preview (or the
error list) → confirm → progress → totals, differences, deductions and recoveries.

Small files are checked and imported inside the request; large ones by Celery tasks enqueued
after commit, with a progress bar that polls `batch_progress_json` (so it survives a reload).
"""

import os
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from insurance_admin.core.forms import DateInRangeField, FieldNamedErrors, MoneyField
from insurance_admin.core.imports import rejected as rejected_file
from insurance_admin.core.masking import (
    can_see_full_identity,
    mask_birth_date,
    mask_certno,
    mask_name,
)
from programs.models import Contract

from . import imports
from .models import Deduction, HospitalBatch, Recovery, Settlement
from .tasks import apply_hospital_batch, validate_hospital_batch

#: Files up to this size are checked inside the request; larger ones go to a worker.
INLINE_BYTES = 512 * 1024
#: Batches up to this many rows are imported inside the request.
INLINE_ROWS = 3000


class BatchUploadForm(FieldNamedErrors, forms.Form):
    contract = forms.ModelChoiceField(label=_("contract"), queryset=Contract.objects.none())
    month = DateInRangeField(label=_("settlement month"), input_formats=["%Y-%m"],
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
    reported_on = DateInRangeField(label=_("reported on"), not_future=True, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                  help_text=_("the day the hospital's report arrived"))
    file = forms.FileField(label=_("file"), help_text=_("CSV (UTF-8 or GBK) or XLSX with the national setlinfo column names"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = Contract.objects.for_user(user).select_related("program")
        self.fields["reported_on"].initial = timezone.localdate()


class DeductionForm(forms.Form):
    setl_id = forms.CharField(label=_("settlement id"), max_length=40)
    amount = MoneyField(label=_("amount"), min_value=Decimal("0.01"))
    reason = forms.CharField(label=_("reason"), max_length=500)


class RecoveryForm(DeductionForm):
    found_on = DateInRangeField(label=_("found on"), not_future=True, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


def _batch(user, pk: int) -> HospitalBatch:
    try:
        return HospitalBatch.objects.for_user(user).select_related("contract__program", "uploaded_by", "confirmed_by").get(pk=pk)
    except HospitalBatch.DoesNotExist:
        raise Http404 from None


@login_required
@permission_required("claims.view_hospitalbatch", raise_exception=True)
def batch_list(request):
    batches = HospitalBatch.objects.for_user(request.user).select_related("contract", "uploaded_by")
    page = Paginator(batches, 50).get_page(request.GET.get("page"))
    return render(request, "claims/batches/list.html", {"page": page})


@login_required
@permission_required("claims.import_hospitalbatch", raise_exception=True)
def batch_upload(request):
    form = BatchUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        batch = imports.batch_upload(contract=data["contract"], month=data["month"], reported_on=data["reported_on"],
                                     uploaded_file=data["file"], user=request.user)
        if batch.status == HospitalBatch.Status.PENDING:
            if data["file"].size <= INLINE_BYTES:
                imports.batch_validate(batch.pk)
            else:
                validate_hospital_batch.delay_on_commit(batch.pk)
        return redirect("hospital_batch_detail", pk=batch.pk)
    return render(request, "claims/batches/upload.html", {"form": form})


@login_required
@permission_required("claims.view_hospitalbatch", raise_exception=True)
def batch_detail(request, pk: int):
    user = request.user
    batch = _batch(user, pk)
    context = {"batch": batch, "progress": imports.batch_progress(batch),
               "can_import": user.has_perm("claims.import_hospitalbatch"),
               "can_adjust": user.has_perm("claims.record_deduction")}
    if batch.status in (HospitalBatch.Status.REFUSED, HospitalBatch.Status.FAILED):
        context["errors"] = imports.rendered_errors(batch.errors)
    if batch.status == HospitalBatch.Status.VALIDATED:
        context["preview_columns"] = [c for c in imports.KNOWN_COLUMNS if any(c in r for r in batch.preview)]
        context["preview"] = _masked_preview(user, batch.preview, context["preview_columns"])
    if batch.status == HospitalBatch.Status.DONE:
        settlements = imports.batch_settlements(batch).for_user(user).select_related("verification")
        differing = settlements.exclude(verification__difference=0).exclude(verification__difference__isnull=True)
        context.update({
            "differences": Paginator(differing.order_by("setl_id"), 100).get_page(request.GET.get("page")),
            "deductions": batch.deductions.filter(settlement__in=settlements).select_related("settlement").order_by("id"),
            "recoveries": batch.recoveries_offset.select_related("settlement").order_by("id"),
            "recoveries_recorded": _recoveries_recorded(batch, settlements),
            "deduction_form": DeductionForm(prefix="d"),
            "recovery_form": RecoveryForm(prefix="r", initial={"found_on": timezone.localdate()}),
            "parties": [(p, label) for p, label in PARTY_LABELS.items()],
            "report_deadline": imports.report_deadline(batch),
            "posted": imports.batch_payable_posted(batch),
            "can_post": user.has_perm("finance.manage_finance") and batch.payable_total > 0,
        })
    return render(request, "claims/batches/detail.html", context)


PARTY_LABELS = {"hospital": _("hospital"), "authority": _("authority"), "insurer": _("insurer")}


def _recoveries_recorded(batch, settlements):
    return Recovery.objects.filter(settlement__in=settlements).select_related("offset_batch", "settlement").order_by("id")


def _masked_preview(user, rows: list[dict], columns: list[str]) -> list[list[str]]:
    full = can_see_full_identity(user)
    out = []
    for row in rows:
        values = []
        for c in columns:
            v = row.get(c, "")
            if not full and c == "certno":
                v = mask_certno(v)
            elif not full and c == "psn_name":
                v = mask_name(v)
            values.append(v)
        out.append(values)
    return out


#: The identity columns of a hospital file, masked in its rejected-rows download.
REJECTED_MASKS = {"certno": mask_certno, "psn_name": mask_name, "brdy": mask_birth_date}


def _masked_rejected_row(header: list[str], row: list[str]) -> list[str]:
    """The identity columns masked, and the row's ID number and name masked wherever the
    reason (last column) or psn_no (some platforms use the ID number as it) repeat them."""
    last = len(header) - 1
    return rejected_file.masked_row(header, row, REJECTED_MASKS, free_text=lambda i, name: name == "psn_no" or i == last)


@login_required
@permission_required("claims.view_hospitalbatch", raise_exception=True)
def batch_rejected(request, pk: int):
    """The batch's rejected rows as CSV: line, the file's own cells, reasons; every cell
    formula-safe. Identities are masked for every reader, full-identity roles included: a bulk
    file of ID numbers would need an identity-access record per person (as the enrollment
    list's download writes), and the line number finds the row in the hospital's own file."""
    batch = _batch(request.user, pk)
    if not batch.rejected_file:
        raise Http404
    transform = _masked_rejected_row

    def chunks():
        with batch.rejected_file.open("rb") as fh:
            yield from rejected_file.stream(fh, transform)

    name = f"{os.path.splitext(batch.file_name)[0]}-rejected.csv"
    response = StreamingHttpResponse(chunks(), content_type="text/csv")
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@login_required
def batch_progress_json(request, pk: int):
    if not request.user.has_perm("claims.view_hospitalbatch"):
        return JsonResponse({"error": "forbidden"}, status=403)
    batch = _batch(request.user, pk)
    return JsonResponse(imports.batch_progress(batch))


@login_required
@permission_required("claims.import_hospitalbatch", raise_exception=True)
@require_POST
def batch_confirm(request, pk: int):
    batch = _batch(request.user, pk)
    try:
        batch = imports.batch_confirm(batch=batch, user=request.user)
    except ValueError:
        messages.error(request, gettext("This batch cannot be confirmed in its present state."))
        return redirect("hospital_batch_detail", pk=pk)
    if batch.row_count <= INLINE_ROWS:
        imports.batch_apply(batch.pk)
    else:
        apply_hospital_batch.delay_on_commit(batch.pk)
    return redirect("hospital_batch_detail", pk=pk)


def _settlement_of(user, batch, setl_id: str) -> Settlement:
    """A settlement of this batch (deductions) or any earlier batch of the same hospital and
    program (recoveries), within the user's areas."""
    qs = Settlement.objects.for_user(user).filter(
        Q(hospital_batch_link__batch=batch)
        | Q(hospital_batch_link__batch__contract__program=batch.contract.program,
            hospital_batch_link__batch__fixmedins_code=batch.fixmedins_code)
    )
    settlement = qs.select_related("contract__program", "hospital_batch_link__batch").filter(setl_id=setl_id).first()
    if settlement is None:
        raise ValidationError({"setl_id": gettext("No settlement %(id)s of this hospital in your areas.") % {"id": setl_id}})
    return settlement


@login_required
@permission_required("claims.record_deduction", raise_exception=True)
@require_POST
def deduction_add(request, pk: int):
    batch = _batch(request.user, pk)
    form = DeductionForm(request.POST, prefix="d")
    if form.is_valid():
        data = form.cleaned_data
        try:
            settlement = _settlement_of(request.user, batch, data["setl_id"])
            if settlement.hospital_batch_link.batch_id != batch.pk:
                raise ValidationError({"setl_id": gettext("Record deductions on the batch that brought the settlement.")})
            imports.deduction_record(settlement=settlement, amount=data["amount"], reason=data["reason"], user=request.user)
            messages.success(request, gettext("Deduction recorded; it reduces the payable once the three parties confirm it."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
    return redirect(reverse("hospital_batch_detail", args=[pk]) + "#deductions")


@login_required
@permission_required("claims.record_deduction", raise_exception=True)
@require_POST
def deduction_confirm(request, pk: int, deduction_pk: int):
    batch = _batch(request.user, pk)
    deduction = Deduction.objects.filter(batch=batch, pk=deduction_pk,
                                         settlement__in=Settlement.objects.for_user(request.user)).first()
    party = request.POST.get("party", "")
    if deduction is None or party not in imports.PARTIES:
        raise Http404
    on_field = DateInRangeField(label=_("confirmed on"), required=False, not_future=True)
    try:
        on = on_field.clean(request.POST.get("on")) or timezone.localdate()
    except ValidationError as exc:
        messages.error(request, f"{on_field.label}: {' '.join(exc.messages)}")
        return redirect(reverse("hospital_batch_detail", args=[pk]) + "#deductions")
    try:
        imports.deduction_confirm(deduction=deduction, party=party, on=on, user=request.user)
    except (ValueError, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect(reverse("hospital_batch_detail", args=[pk]) + "#deductions")


@login_required
@permission_required("claims.record_deduction", raise_exception=True)
@require_POST
def recovery_add(request, pk: int):
    batch = _batch(request.user, pk)
    form = RecoveryForm(request.POST, prefix="r")
    if form.is_valid():
        data = form.cleaned_data
        try:
            settlement = _settlement_of(request.user, batch, data["setl_id"])
            imports.recovery_record(settlement=settlement, amount=data["amount"], reason=data["reason"],
                                    found_on=data["found_on"], user=request.user)
            messages.success(request, gettext("Recovery recorded; it is offset against the hospital's next batch."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
    return redirect(reverse("hospital_batch_detail", args=[pk]) + "#recoveries")


@login_required
@permission_required("claims.import_hospitalbatch", raise_exception=True)
@require_POST
def batch_retry(request, pk: int):
    """A FAILED batch (its check or import raised) is checked again from the stored file."""
    batch = _batch(request.user, pk)
    try:
        batch = imports.batch_retry(batch=batch, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("hospital_batch_detail", pk=pk)
    if batch.file.size <= INLINE_BYTES:
        imports.batch_validate(batch.pk)
    else:
        validate_hospital_batch.delay_on_commit(batch.pk)
    return redirect("hospital_batch_detail", pk=pk)


@login_required
@permission_required("finance.manage_finance", raise_exception=True)
@require_POST
def batch_post(request, pk: int):
    batch = _batch(request.user, pk)
    try:
        imports.batch_payable_post(batch=batch, user=request.user)
    except (ValidationError, ValueError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("The payable is with finance."))
    return redirect("hospital_batch_detail", batch.pk)

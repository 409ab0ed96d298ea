from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from insurance_admin.accounts.scoping import area_scope_ids
from insurance_admin.core.masking import can_see_full_identity

from . import selectors, services
from .audit import person_history
from .forms import ImportUploadForm
from .identity_access import identity_access_record, identity_access_record_persons
from .models import Contract, ImportBatch, InsuredPerson
from .person_sections import sections_for
from .registry.rejected import rejected_rows_for


def _year(request, user) -> int:
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else selectors.default_year(user)


@login_required
def workbench(request, extra_context=None):
    """The person search and the year's contracts. The home page (insurance_admin.workbench)
    adds the role's work queues through `extra_context`. An exact ID-number or psn_no match of
    one person opens their page directly."""
    user = request.user
    year = _year(request, user)
    can_search = user.has_perm("programs.view_insuredperson")
    search = selectors.search_persons(user, request.GET.get("q", ""), year) if can_search else None
    if search is not None and search.kind in ("certno", "psn_no") and len(search.rows) == 1 and not search.problem:
        return redirect(f"{reverse('person_detail', args=[search.rows[0].person.pk])}?year={year}")
    contracts = Contract.objects.for_user(user).select_related("program", "insurer").filter(year=year)
    if search is not None and search.rows:
        # the result list shows full ID numbers to the window roles; the query is not kept
        identity_access_record_persons(user=user, persons=[row.person for row in search.rows], where=request.path)
    return render(
        request,
        "programs/workbench.html",
        {
            "search": search,
            "year": year,
            "years": selectors.visible_years(user) or [year],
            "contracts": contracts,
            "can_search": can_search,
            "full_identity": can_see_full_identity(user),
            "area_names": selectors.user_area_names(user),
            **(extra_context or {}),
        },
    )


@login_required
@permission_required("programs.view_insuredperson", raise_exception=True)
def person_detail(request, pk: int):
    user = request.user
    try:
        person = selectors.person_for_user(user, pk)
    except InsuredPerson.DoesNotExist:
        raise Http404 from None
    year = _year(request, user)
    history = []
    if user.has_perm("core.view_audit_log"):
        history = person_history(user, person)
    identity_access_record(user=user, person=person, where=request.get_full_path())
    return render(
        request,
        "programs/person_detail.html",
        {
            "person": person,
            "year": year,
            "years": selectors.visible_years(user) or [year],
            "enrollments": person.visible_enrollments,
            "periods": selectors.earlier_states(person.visible_enrollments),
            "year_enrollment": selectors.enrollment_for_year(person.visible_enrollments, year),
            "full_identity": can_see_full_identity(user),
            "history": history,
            # claims, year-to-date totals, instant settlements: registered by the apps above
            "sections": sections_for(request, person, year),
        },
    )


# --- enrollment list imports ----------------------------------------------------------------


def _batch_for(user, pk: int) -> ImportBatch:
    try:
        return ImportBatch.objects.for_user(user).select_related("contract", "created_by").get(pk=pk)
    except ImportBatch.DoesNotExist:
        raise Http404 from None


@login_required
@permission_required("programs.view_importbatch", raise_exception=True)
def import_batch_list(request):
    user = request.user
    can_import = user.has_perm("programs.import_enrollment_list")
    form = ImportUploadForm(user=user, initial={"effective_date": timezone.localdate()})
    if request.method == "POST":
        if not can_import:
            raise PermissionDenied
        form = ImportUploadForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            try:
                batch = services.import_batch_create(
                    user=user,
                    contract=form.cleaned_data["contract"],
                    uploaded_file=form.cleaned_data["file"],
                    effective_date=form.cleaned_data["effective_date"],
                    mode=form.cleaned_data["mode"],
                    source=form.cleaned_data["source"],
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                return redirect("import_batch_detail", pk=batch.pk)
    batches = ImportBatch.objects.for_user(user).select_related("contract", "created_by")[:50]
    return render(request, "programs/import_list.html", {"form": form, "batches": batches, "can_import": can_import})


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@permission_required("programs.view_importbatch", raise_exception=True)
def import_batch_detail(request, pk: int):
    batch = _batch_for(request.user, pk)
    return render(
        request,
        "programs/import_detail.html",
        {
            "batch": batch,
            "progress": selectors.import_batch_progress(batch),
            "can_import": request.user.has_perm("programs.import_enrollment_list"),
        },
    )


@login_required
@permission_required("programs.view_importbatch", raise_exception=True)
def import_batch_progress(request, pk: int):
    return JsonResponse(selectors.import_batch_progress(_batch_for(request.user, pk)))


@login_required
@permission_required("programs.import_enrollment_list", raise_exception=True)
@require_POST
def import_batch_confirm(request, pk: int):
    batch = _batch_for(request.user, pk)
    try:
        services.import_batch_confirm(batch=batch, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, gettext("Confirmed: the valid rows are being applied."))
    return redirect("import_batch_detail", pk=pk)


@login_required
@permission_required("programs.import_enrollment_list", raise_exception=True)
@require_POST
def import_batch_retry(request, pk: int):
    batch = _batch_for(request.user, pk)
    try:
        services.import_batch_retry(batch=batch, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, gettext("Restarted: the valid rows are being applied again."))
    return redirect("import_batch_detail", pk=pk)


@login_required
@permission_required("programs.view_importbatch", raise_exception=True)
def import_batch_rejected(request, pk: int):
    batch = _batch_for(request.user, pk)
    if not batch.rejected_file:
        raise Http404
    name = f"{batch.file_name.rsplit('.', 1)[0]}-rejected.csv"
    response = StreamingHttpResponse(rejected_rows_for(request.user, batch, where=request.path), content_type="text/csv")
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# --- headcount snapshots ------------------------------------------------------------------------


@login_required
@permission_required("programs.view_headcountsnapshot", raise_exception=True)
def contract_headcount(request, code: str):
    try:
        contract = Contract.objects.for_user(request.user).select_related("program").get(code=code)
    except Contract.DoesNotExist:
        raise Http404 from None
    if request.method == "POST":
        if not request.user.has_perm("programs.add_headcountsnapshot"):
            raise PermissionDenied
        try:
            services.headcount_snapshot_take(contract=contract, kind=request.POST.get("kind", ""), user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, gettext("Headcount snapshot taken."))
        return redirect("contract_headcount", code=code)
    return render(
        request,
        "programs/contract_headcount.html",
        {
            "contract": contract,
            "tables": selectors.contract_snapshots(contract, area_scope_ids(request.user)),
            "can_take": request.user.has_perm("programs.add_headcountsnapshot"),
            # the renewal into the next year (a draft being prepared, or the activated year)
            "can_renew": request.user.has_perm("programs.add_contract"),
            "next_year": Contract.objects.filter(renewed_from=contract).first(),
            "year_ended": contract.period_end < timezone.localdate(),
        },
    )

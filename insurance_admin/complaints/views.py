"""The complaint pages: list (filters, export), register, detail with the next steps. Views
check permission and scope, validate input, call one service and report its result."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from insurance_admin.core import exports
from insurance_admin.core.masking import can_see_full_identity, mask_name, mask_phone

from . import services
from .filters import ComplaintFilter
from .forms import (
    AssignForm,
    ComplaintForm,
    DefaultsForm,
    ReopenForm,
    TransitionForm,
    assignee_choices,
)
from .models import Complaint, ComplaintTerms

S = Complaint.Status
#: the button of each step, a verb
VERBS = {S.INVESTIGATING: gettext_lazy("Start investigating"), S.ANSWERED: gettext_lazy("Record the answer"),
         S.CLOSED: gettext_lazy("Close after rectification")}


def _complaint_for(user, pk: int) -> Complaint:
    qs = Complaint.objects.for_user(user).select_related(
        "contract", "area", "complainant_person", "about_claim", "about_person", "about_staff", "received_by",
        "assigned_to")
    return get_object_or_404(qs, pk=pk)


def complainant_shown(user, complaint: Complaint) -> tuple[str, str]:
    """(name, phone) of the complainant, masked for roles that do not need them."""
    person = complaint.complainant_person
    name = person.name if person is not None else complaint.complainant_name
    phone = complaint.complainant_phone or (person.phone if person is not None else "")
    if can_see_full_identity(user):
        return name, phone
    return mask_name(name), (mask_phone(phone) if phone else "")


@login_required
@permission_required("complaints.view_complaint", raise_exception=True)
def complaint_list(request):
    user = request.user
    base = Complaint.objects.for_user(user).select_related("contract", "area", "complainant_person", "assigned_to")
    complaint_filter = ComplaintFilter(request.GET or None, queryset=base, request=request)
    qs = complaint_filter.qs if complaint_filter.is_bound else base
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return _export(qs, export)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(c, complainant_shown(user, c)[0], c.status in (S.RECEIVED, S.INVESTIGATING) and c.answer_due < today)
            for c in page]
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("export", None)
    return render(request, "complaints/list.html", {
        "filter": complaint_filter, "page": page, "rows": rows, "query": params.urlencode(),
    })


def _export(qs, fmt: str) -> HttpResponse:
    """The filtered complaints; the complainant's name is always masked in a file."""
    header = [_("complaint number"), _("contract"), _("area"), _("channel"), _("complaint category"), _("complainant"),
              _("received on"), _("answer due"), _("status"), _("answered on"), _("answered on time")]
    rows = []
    for c in qs.order_by("received_on", "id"):
        name = c.complainant_person.name if c.complainant_person_id else c.complainant_name
        rows.append([c.complaint_no, c.contract.name, c.area.name, c.get_channel_display(), c.get_category_display(),
                     mask_name(name), c.received_on, c.answer_due, c.get_status_display(), c.answered_on,
                     "" if c.on_time is None else (_("yes") if c.on_time else _("no"))])
    stamp = f"{timezone.localdate():%Y%m%d}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = exports.writer(buffer)
        writer.writerow(header)
        writer.writerows([[v.isoformat() if hasattr(v, "isoformat") else ("" if v is None else v) for v in r]
                          for r in rows])
        response = HttpResponse(buffer.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    else:
        # heavy: openpyxl loaded only when a workbook is written
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = _("Complaints")[:31]
        exports.append(sheet, header)
        for row in rows:
            exports.append(sheet, row)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(out.getvalue(),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="complaints-{stamp}.{fmt}"'
    return response


@login_required
@permission_required("complaints.add_complaint", raise_exception=True)
def complaint_register_view(request):
    user = request.user
    form = ComplaintForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            complaint = services.complaint_register(
                user=user, contract=d["contract"], area=d["area"], channel=d["channel"], category=d["category"],
                complexity=d["complexity"], summary=d["summary"], received_on=d["received_on"],
                complainant_person=d["complainant_person"], complainant_name=d["complainant_name"],
                complainant_phone=d["complainant_phone"], about_claim=d["about_claim"], about_person=d["about_person"],
                about_staff=d["about_staff"])
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Complaint %(no)s registered; answer due on %(due)s.") % {
                "no": complaint.complaint_no, "due": complaint.answer_due.isoformat()})
            return redirect("complaints:detail", complaint.pk)
    return render(request, "complaints/register.html", {"form": form})


@login_required
@permission_required("complaints.view_complaint", raise_exception=True)
def complaint_detail(request, pk: int):
    user = request.user
    complaint = _complaint_for(user, pk)
    steps = [{"to": to, "label": VERBS[to]} for to, perm in services.TRANSITIONS[complaint.status].items()
             if user.has_perm(perm)]
    can_assign = user.has_perm(services.MANAGE) and complaint.status in (S.RECEIVED, S.INVESTIGATING)
    can_reopen = any(user.has_perm(perm) for perm in services.REOPENS[complaint.status].values())
    name, phone = complainant_shown(user, complaint)
    today = timezone.localdate()
    return render(request, "complaints/detail.html", {
        "complaint": complaint, "complainant_name": name, "complainant_phone": phone,
        "steps": steps, "step_targets": [s["to"] for s in steps],
        "assign_form": AssignForm(choices=assignee_choices(user, complaint),
                                  initial={"assignee": complaint.assigned_to_id}) if can_assign else None,
        "transition_form": TransitionForm(initial={"on": today, "answer": complaint.answer, "root_cause": complaint.root_cause,
                                                   "rectification": complaint.rectification}) if steps else None,
        "reopen_form": ReopenForm(initial={"on": today}) if can_reopen else None,
        "changes": complaint.status_changes.select_related("by"),
        "overdue": complaint.status in (S.RECEIVED, S.INVESTIGATING) and complaint.answer_due < today,
        "terms": services.terms_for(complaint.contract),
        "can_see_claim": complaint.about_claim_id is not None and user.has_perm("claims.view_claim"),
    })


@login_required
@require_POST
@permission_required("complaints.manage_complaint", raise_exception=True)
def complaint_assign_view(request, pk: int):
    complaint = _complaint_for(request.user, pk)
    form = AssignForm(request.POST, choices=assignee_choices(request.user, complaint))
    if not form.is_valid():
        messages.error(request, _("Choose who handles the complaint."))
        return redirect("complaints:detail", complaint.pk)
    try:
        complaint = services.complaint_assign(complaint=complaint, assignee=form.users[form.cleaned_data["assignee"]],
                                              user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Complaint %(no)s is handled by %(user)s.") % {
            "no": complaint.complaint_no, "user": complaint.assigned_to.get_full_name() or complaint.assigned_to.username})
    return redirect("complaints:detail", complaint.pk)


@login_required
@require_POST
def complaint_transition_view(request, pk: int):
    complaint = _complaint_for(request.user, pk)
    to = request.POST.get("to", "")
    if to not in S.values:
        raise Http404
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("complaints:detail", complaint.pk)
    d = form.cleaned_data
    try:
        complaint = services.complaint_transition(
            complaint=complaint, to=to, user=request.user, answer=d["answer"], root_cause=d["root_cause"],
            rectification=d["rectification"], on=d["on"], note=d["note"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Complaint %(no)s is now %(status)s.") % {
            "no": complaint.complaint_no, "status": complaint.get_status_display()})
    return redirect("complaints:detail", complaint.pk)


@login_required
@require_POST
@permission_required("complaints.manage_complaint", raise_exception=True)
def complaint_reopen_view(request, pk: int):
    complaint = _complaint_for(request.user, pk)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("complaints:detail", complaint.pk)
    try:
        complaint = services.complaint_reopen(complaint=complaint, user=request.user, reason=form.cleaned_data["reason"],
                                              on=form.cleaned_data["on"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Complaint %(no)s is reopened; answer due on %(due)s.") % {
            "no": complaint.complaint_no, "due": complaint.answer_due.isoformat()})
    return redirect("complaints:detail", complaint.pk)


def _defaults_rows(user, bound=None):
    """[(terms, form)] of the contracts the user sees; `bound` = (terms pk, bound form) after a refused save."""
    rows = []

    def attach(terms, form):
        # the inputs sit in table cells and belong to the row's form by its id
        for field in form.fields.values():
            field.widget.attrs.update({"form": f"form-{terms.pk}", "aria-label": str(field.label)})
        return terms, form

    for terms in ComplaintTerms.objects.for_user(user).select_related("contract").order_by("-contract__year", "contract__code"):
        if bound is not None and bound[0] == terms.pk:
            rows.append(attach(terms, bound[1]))
        else:
            rows.append(attach(terms, DefaultsForm(initial={"simple_days": terms.simple_days,
                                                            "complex_days": terms.complex_days}, prefix=terms.contract.code)))
    return rows


@login_required
@permission_required(services.DEFAULTS_PERM, raise_exception=True)
def complaint_defaults(request):
    """The default answer times per contract (the regulator's 15 working days for simple, 30 for
    complex complaints, unless changed), one form per contract the supervisor sees."""
    return render(request, "complaints/defaults.html", {"rows": _defaults_rows(request.user)})


@login_required
@require_POST
@permission_required(services.DEFAULTS_PERM, raise_exception=True)
def complaint_defaults_edit(request, code: str):
    user = request.user
    terms = get_object_or_404(ComplaintTerms.objects.for_user(user).select_related("contract"), contract__code=code)
    form = DefaultsForm(request.POST, prefix=code)
    if form.is_valid():
        try:
            terms = services.complaint_defaults_set(terms=terms, user=user, simple_days=form.cleaned_data["simple_days"],
                                                    complex_days=form.cleaned_data["complex_days"])
        except ValidationError as exc:
            for field, errors in getattr(exc, "error_dict", {None: exc.error_list}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("%(contract)s: simple complaints are answered within %(simple)s working days, "
                                        "complex ones within %(complex)s, for complaints registered from now on.") % {
                "contract": terms.contract.name, "simple": terms.simple_days, "complex": terms.complex_days})
            return redirect("complaints:defaults")
    return render(request, "complaints/defaults.html", {"rows": _defaults_rows(user, (terms.pk, form))}, status=400)

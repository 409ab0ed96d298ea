"""The window's member-service pages (健康管理服务) and claim reports by phone (报案), issue 23
item 5. Views check permission and scope (a person, contract or report outside the user's
areas is a 404), validate input, call one service and report its result."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from insurance_admin.core import exports
from insurance_admin.core.masking import can_see_full_identity, mask_name, mask_phone
from programs.identity import normalize_certno
from programs.identity_access import identity_access_record
from programs.models import Area, Contract, Enrollment, InsuredPerson

from . import members
from .member_forms import (
    EntitlementUseForm,
    PhoneReportForm,
    PhoneReportPersonForm,
    ReportFilterForm,
)
from .models import Claim, ClaimReport, DocumentRequirement, EntitlementUse
from .views import enrolled_or_404

# --- member services of one person --------------------------------------------------------


@login_required
@permission_required("claims.view_entitlementuse", raise_exception=True)
def member_services(request, person_pk: int, contract_code: str):
    """What the person used and has left of the contract's member services; a caseworker
    records a use or a discounted purchase here."""
    user = request.user
    person, contract, enrollment = enrolled_or_404(user, person_pk, contract_code)
    standing = members.standing(person, contract, enrollment)
    can_record = user.has_perm("claims.add_entitlementuse") and bool(standing)
    if request.method == "POST" and not can_record:
        raise PermissionDenied
    form = EntitlementUseForm(request.POST if request.method == "POST" else None, contract=contract)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            use = members.entitlement_use_record(
                user=user, person=person, contract=contract, kind=d["kind"], used_on=d["used_on"],
                purchase_amount=d.get("purchase_amount"), note=d.get("note", ""))
        except members.EntitlementRefused as exc:
            form.add_error(None, exc.messages)
        else:
            text = _("%(kind)s recorded on %(date)s.") % {"kind": use.kind.name, "date": use.used_on}
            if use.purchase_amount is not None:
                text += " " + _("Subsidy %(subsidy)s yuan on a purchase of %(amount)s yuan.") % {
                    "subsidy": f"{use.subsidy:,.2f}", "amount": f"{use.purchase_amount:,.2f}"}
                if note := members.subsidy_note(use):
                    text += f"（{note}）"
            messages.success(request, text)
            return redirect("member_services", person.pk, contract.code)
        standing = members.standing(person, contract, enrollment)
    uses = list(EntitlementUse.objects.filter(person=person, contract=contract)
                .select_related("kind__group", "recorded_by"))
    for use in uses:
        use.cut_note = members.subsidy_note(use)
    identity_access_record(user=user, person=person, where=request.path)
    return render(request, "claims/members/person.html", {
        "person": person, "contract": contract, "enrollment": enrollment,
        "standing": standing, "uses": uses,
        "form": form if can_record else None, "full_identity": can_see_full_identity(user),
    }, status=400 if request.method == "POST" else 200)


def person_members_section(request, person, year: int):
    """The person page's section: member services used and left per contract of the year, and
    the person's claim reports by phone (registered in ClaimsConfig.ready)."""
    from programs.person_sections import PersonSection

    user = request.user
    if not user.has_perm("claims.view_entitlementuse") and not user.has_perm("claims.view_claimreport"):
        return None
    contracts = []
    if user.has_perm("claims.view_entitlementuse"):
        for e in person.visible_enrollments:
            if e.contract.year == year and e.status != Enrollment.Status.CANCELLED:
                rows = members.standing(person, e.contract, e)
                if rows:
                    contracts.append((e.contract, rows))
    reports = []
    if user.has_perm("claims.view_claimreport"):
        reports = list(ClaimReport.objects.for_user(user).filter(person=person).select_related("contract", "claim"))
    year_contracts = [e.contract for e in person.visible_enrollments
                      if e.contract.year == year and e.status != Enrollment.Status.CANCELLED]
    if not contracts and not reports and not user.has_perm("claims.add_claimreport"):
        return None
    return PersonSection("claims/members/_person_section.html", {
        "contracts": contracts, "reports": reports, "year_contracts": year_contracts,
        "can_record": user.has_perm("claims.add_entitlementuse"), "can_report": user.has_perm("claims.add_claimreport"),
    }, order=20)


# --- the monthly usage report -------------------------------------------------------------


def _month(value: str | None) -> dt.date:
    if value:
        year, month = value.split("-")
        return dt.date(int(year), int(month), 1)
    return timezone.localdate().replace(day=1)


@login_required
@permission_required("claims.view_entitlementuse", raise_exception=True)
def member_service_report(request):
    """Per contract and month: uses, persons, purchase amounts and subsidies per service, in
    the user's areas; CSV and XLSX (formula-safe)."""
    user = request.user
    contracts = Contract.objects.for_user(user).filter(entitlement_groups__isnull=False).distinct().order_by("-year", "code")
    form = ReportFilterForm(request.GET or None, contracts=contracts)
    contract, month = None, _month(None)
    if form.is_bound and form.is_valid():
        contract = form.cleaned_data["contract"]
        month = _month(form.cleaned_data["month"])
    contract = contract or contracts.first()
    rows = members.monthly_usage(user, contract, month) if contract is not None else []
    totals = members.report_totals(rows)
    export = request.GET.get("export")
    if contract is not None and export in ("csv", "xlsx"):
        return _report_export(export, contract, month, rows, totals)
    return render(request, "claims/members/report.html", {
        "form": form, "contract": contract, "month": month, "rows": rows, "totals": totals,
        "query": f"contract={contract.code}&month={month:%Y-%m}" if contract else "",
    })


def _report_export(fmt: str, contract, month, rows, totals) -> HttpResponse:
    header = [_("Member services"), _("Service"), _("Uses"), _("Persons"), _("Purchase amount (yuan)"), _("Subsidy (yuan)")]
    body = [[r.group.name, r.kind.name, r.uses, r.persons, r.purchases, r.subsidy] for r in rows]
    total = [_("Total"), "", totals["uses"], "", totals["purchases"], totals["subsidy"]]
    title = [contract.name, f"{month:%Y-%m}"]
    name = f"member-services-{month:%Y-%m}.{fmt}"
    if fmt == "csv":
        stream = io.StringIO()
        writer = exports.writer(stream)
        writer.writerow(title)
        writer.writerow(header)
        writer.writerows(body)
        writer.writerow(total)
        response = HttpResponse(stream.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    else:
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = f"{month:%Y-%m}"
        for row in (title, header, *body, total):
            exports.append(sheet, row)
        for row in sheet.iter_rows(min_row=3, min_col=5, max_col=6):
            for cell in row:
                cell.number_format = "#,##0.00"
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(out.getvalue(),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- claim reports by phone (报案) -----------------------------------------------------------


def _mask(user, report: ClaimReport) -> ClaimReport:
    full = can_see_full_identity(user)
    report.caller_shown = report.caller_name if full else mask_name(report.caller_name)
    report.phone_shown = report.caller_phone if full else mask_phone(report.caller_phone)
    report.insured_shown = report.insured_name if full else mask_name(report.insured_name)
    return report


@login_required
@permission_required("claims.view_claimreport", raise_exception=True)
def phone_report_list(request):
    user = request.user
    state = request.GET.get("state", "open")
    qs = ClaimReport.objects.for_user(user).select_related("contract", "person", "area", "claim", "received_by")
    if state == "open":
        qs = qs.filter(claim__isnull=True)
    elif state == "converted":
        qs = qs.filter(claim__isnull=False)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    reports = [_mask(user, r) for r in page]
    return render(request, "claims/members/report_list.html", {
        "page": page, "reports": reports, "state": state, "can_add": user.has_perm("claims.add_claimreport"),
    })


def _scoped_person(user, pk) -> InsuredPerson:
    from programs import selectors

    try:
        return selectors.person_for_user(user, int(pk))
    except (InsuredPerson.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@login_required
@permission_required("claims.add_claimreport", raise_exception=True)
def phone_report_add(request):
    """Record a call: first the contract (and the person, when the call is taken from their
    page), then who called, when, and what they were told to bring."""
    user = request.user
    contracts = Contract.objects.for_user(user).select_related("program").order_by("-year", "code")
    person = _scoped_person(user, request.GET["person"]) if request.GET.get("person") else None
    contract = None
    if request.GET.get("contract"):
        contract = get_object_or_404(contracts, code=request.GET["contract"])
    if contract is None:
        if person is not None:
            contracts = contracts.filter(pk__in=[e.contract_id for e in person.visible_enrollments])
        return render(request, "claims/members/report_add.html", {"contracts": contracts, "person": person})
    enrollment = None
    if person is not None:
        enrollment = next((e for e in person.visible_enrollments
                           if e.contract_id == contract.pk and e.status != Enrollment.Status.CANCELLED), None)
        if enrollment is None:
            raise Http404
    requirements = DocumentRequirement.objects.filter(program=contract.program)
    region = contract.program.region_id
    areas = Area.objects.for_user(user).counties().filter(Q(parent_id=region) | Q(pk=region))
    form = PhoneReportForm(request.POST if request.method == "POST" else None, requirements=requirements,
                           areas=areas, person=person)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        found, area = person, enrollment.area if enrollment else None
        if found is None and d.get("certno"):
            certno = normalize_certno(d["certno"])
            found_enrollment = (Enrollment.objects.for_user(user).in_force()
                                .filter(person__certno=certno, contract=contract).select_related("person", "area").first())
            if found_enrollment is None:
                form.add_error("certno", _("No insured person with this ID number in this contract in your areas."))
            else:
                found, area = found_enrollment.person, found_enrollment.area
        if found is None and not d.get("insured_name") and not form.errors:
            form.add_error("insured_name", _("Give the insured person's ID number or name."))
        area = area or d.get("area")
        if area is None and not form.errors:
            form.add_error("area", _("Choose the area."))
        if not form.errors:
            with transaction.atomic():
                report = ClaimReport.objects.create(
                    contract=contract, area=area, person=found, insured_name=d.get("insured_name", "") or "",
                    caller_name=d["caller_name"], caller_phone=d["caller_phone"], caller_relation=d["caller_relation"],
                    reported_at=d["reported_at"], received_by=user, summary=d["summary"], note=d["note"])
                report.told_to_bring.set(d["told_to_bring"])
            messages.success(request, _("Claim report recorded."))
            return redirect("phone_report_detail", report.pk)
    if person is not None:
        identity_access_record(user=user, person=person, where=request.path)
    return render(request, "claims/members/report_add.html", {
        "contract": contract, "person": person, "enrollment": enrollment, "form": form,
    })


@login_required
@permission_required("claims.view_claimreport", raise_exception=True)
def phone_report_detail(request, pk: int):
    """One report: its checklist, the person (found by ID number later when the caller did
    not know it), and 登记理赔 — the registration form for this person and contract."""
    user = request.user
    report = get_object_or_404(
        ClaimReport.objects.for_user(user).select_related("contract__program", "person", "area", "claim", "received_by"),
        pk=pk)
    form = None
    can_change = user.has_perm("claims.change_claimreport") and report.claim_id is None and report.person_id is None
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = PhoneReportPersonForm(request.POST)
        if form.is_valid():
            enrollment = (Enrollment.objects.for_user(user).in_force()
                          .filter(person__certno=normalize_certno(form.cleaned_data["certno"]), contract=report.contract)
                          .select_related("person", "area").first())
            if enrollment is None:
                form.add_error("certno", _("No insured person with this ID number in this contract in your areas."))
            else:
                with transaction.atomic():
                    locked = ClaimReport.objects.select_for_update().get(pk=report.pk)
                    if locked.person_id is None:
                        locked.person, locked.area = enrollment.person, enrollment.area
                        locked.save(update_fields=["person", "area"])
                messages.success(request, _("The report now names the insured person."))
                return redirect("phone_report_detail", report.pk)
    elif can_change:
        form = PhoneReportPersonForm()
    register_url = None
    if report.person_id and report.claim_id is None and user.has_perm("claims.add_claim"):
        register_url = reverse("claim_register", args=[report.person_id, report.contract.code]) + f"?report={report.pk}"
    if report.person_id:
        identity_access_record(user=user, person=report.person, where=request.path)
    return render(request, "claims/members/report_detail.html", {
        "report": _mask(user, report), "told": list(report.told_to_bring.all()),
        "requirements": DocumentRequirement.objects.filter(program=report.contract.program),
        "person_form": form, "register_url": register_url,
        "claim_visible": report.claim_id and Claim.objects.for_user(user).filter(pk=report.claim_id).exists(),
    }, status=400 if request.method == "POST" else 200)


def open_report_for(user, request, person, contract) -> ClaimReport | None:
    """The open claim report a registration was started from (`?report=`), if it is this
    person's under this contract and in the user's areas."""
    value = request.GET.get("report", "")
    if not value.isdigit():
        return None
    return (ClaimReport.objects.for_user(user)
            .filter(pk=int(value), person=person, contract=contract, claim__isnull=True).first())

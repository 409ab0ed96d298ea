"""Finance pages: dashboard, contract page, movement forms, statements and reports.

Reading needs `finance.view_finance` (finance staff and supervisors); every write needs
`finance.manage_finance` (finance staff only) and goes through one service. Contracts and rows
are looked up through `for_user`, so out-of-area objects answer 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from programs.models import Area, Contract

from . import basis as fund_basis
from . import documents, forms, reports, selectors, services
from .models import (
    GuaranteeDeposit,
    HospitalPayable,
    LedgerEntry,
    Penalty,
    PremiumInstallment,
    PremiumSchedule,
    Prepayment,
    RevolvingFund,
)

VIEW = "finance.view_finance"
MANAGE = "finance.manage_finance"


def _contract(user, code: str) -> Contract:
    return get_object_or_404(selectors.contracts_for(user), code=code)


def _error_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _basis_and_period(request, contract: Contract):
    """?basis=contract|cash&period=2025|2025-H1|2025-Q4|2025-03; default: the contract year."""
    basis = fund_basis.clean_basis(request.GET.get("basis"))
    start, end = fund_basis.period_of(request.GET.get("period")) or fund_basis.contract_year(contract)
    return basis, start, end


@login_required
@permission_required(VIEW, raise_exception=True)
def dashboard(request):
    """Each contract's fund on one stated basis and period (`finance.basis.fund_figures`, the
    selector the reports use): by default the contract year on the contract-year basis."""
    today = timezone.localdate()
    rows = []
    for contract in selectors.contracts_for(request.user):
        # the region's row only for users of the whole region (a county user reads their county)
        whole = selectors.sees_whole_region(request.user, contract)
        basis, start, end = _basis_and_period(request, contract)
        position = fund_basis.fund_figures(contract, None, start, end, basis) if whole else None
        rows.append({
            "contract": contract,
            "position": position,
            "stated": f"{fund_basis.basis_display(basis)} · {fund_basis.period_display(start, end)}",
            "overdue": selectors.installments_overdue(contract, today),
            "suspension": selectors.premium_suspension(contract, today),
            "areas": [(a, fund_basis.fund_figures(contract, a, start, end, basis)) for a in selectors.areas_for(request.user, contract)]
            if len(selectors.area_books(contract)) > 1 or not whole else [],
        })
    return render(request, "finance/dashboard.html", {
        "rows": rows, "today": today, "bases": fund_basis.BASES, "basis": fund_basis.clean_basis(request.GET.get("basis")),
        "period": request.GET.get("period", "") if fund_basis.period_of(request.GET.get("period")) else ""})



@login_required
@permission_required(VIEW, raise_exception=True)
def contract_detail(request, code: str):
    user = request.user
    contract = _contract(user, code)
    today = timezone.localdate()
    fund = RevolvingFund.objects.filter(contract=contract).first()
    areas = selectors.areas_for(user, contract)
    whole = selectors.sees_whole_region(user, contract)
    basis, start, end = _basis_and_period(request, contract)
    position = fund_basis.fund_figures(contract, None, start, end, basis) if whole else None
    context = {
        "stated": f"{fund_basis.basis_display(basis)} · {fund_basis.period_display(start, end)}",
        "bases": fund_basis.BASES,
        "contract": contract,
        "today": today,
        "terms": selectors.terms_for(contract),
        "schedule": PremiumSchedule.objects.filter(contract=contract).first(),
        "installments": PremiumInstallment.objects.for_user(user).filter(contract=contract).order_by("seq"),
        "suspension": selectors.premium_suspension(contract, today),
        "deposits": GuaranteeDeposit.objects.for_user(user).filter(contract=contract),
        "fund": fund,
        "chart": selectors.revolving_chart_options(fund) if fund else None,
        "topups": fund.topups.all() if fund else [],
        "prepayment": Prepayment.objects.for_user(user).filter(contract=contract).first(),
        "penalties": Penalty.objects.for_user(user).filter(contract=contract).select_related("area"),
        "payables": HospitalPayable.objects.for_user(user).filter(contract=contract).select_related("area")[:200],
        "entries": selectors.entries_for(user, contract)[:100],
        "position": position,
        "usage_lines": reports.usage_lines(position.usage) if position and position.usage else [],
        "area_positions": [(a, fund_basis.fund_figures(contract, a, start, end, basis)) for a in areas]
        if len(selectors.area_books(contract)) > 1 or not whole else [],
        "sees_whole_region": whole,
        "areas": areas,
        "report_kinds": reports.REPORT_KINDS,
        "can_manage": user.has_perm(MANAGE),
        "movement_form": forms.MovementForm(),
        "forms": {
            "schedule": forms.ScheduleForm(), "headcount": forms.HeadcountChangeForm(), "event": forms.EventForm(),
            "deposit": forms.DepositForm(), "revolving": forms.RevolvingOpenForm(
                initial={"last_year_income": selectors.terms_for(contract).last_year_premium}),
            "topup": forms.TopUpForm(), "penalty": forms.PenaltyForm(areas=Area.objects.filter(pk__in=[a.pk for a in areas])),
            "closed": forms.CasesClosedForm(), "reverse": forms.ReverseForm(),
        },
    }
    return render(request, "finance/contract.html", context)


# --- writes ---------------------------------------------------------------------------------

# (kind of row, action) -> (model, service call)
MOVEMENTS = {
    ("installment", "receipt"): (PremiumInstallment, lambda obj, d, u: services.installment_record_receipt(
        installment=obj, amount=d["amount"], received_on=d["on_date"], user=u, reference=d["reference"], memo=d["memo"])),
    ("deposit", "pay"): (GuaranteeDeposit, lambda obj, d, u: services.deposit_record_payment(
        deposit=obj, amount=d["amount"], paid_on=d["on_date"], user=u, reference=d["reference"])),
    ("deposit", "return"): (GuaranteeDeposit, lambda obj, d, u: services.deposit_return(
        deposit=obj, amount=d["amount"], returned_on=d["on_date"], user=u, reference=d["reference"])),
    ("deposit", "forfeit"): (GuaranteeDeposit, lambda obj, d, u: services.deposit_forfeit(
        deposit=obj, amount=d["amount"], on_date=d["on_date"], reason=d["memo"], user=u)),
    ("revolving", "opening"): (RevolvingFund, lambda obj, d, u: services.revolving_fund_record_opening(
        fund=obj, amount=d["amount"], paid_on=d["on_date"], user=u, reference=d["reference"])),
    ("revolving", "debit"): (RevolvingFund, lambda obj, d, u: services.revolving_fund_debit(
        fund=obj, amount=d["amount"], paid_on=d["on_date"], user=u, memo=d["memo"], reference=d["reference"])),
    ("prepayment", "pay"): (Prepayment, lambda obj, d, u: services.prepayment_record(
        prepayment=obj, amount=d["amount"], on_date=d["on_date"], returned=False, user=u, reference=d["reference"])),
    ("prepayment", "return"): (Prepayment, lambda obj, d, u: services.prepayment_record(
        prepayment=obj, amount=d["amount"], on_date=d["on_date"], returned=True, user=u, reference=d["reference"])),
    ("penalty", "settle"): (Penalty, lambda obj, d, u: services.penalty_settle(
        penalty=obj, amount=d["amount"], on_date=d["on_date"], user=u, reference=d["reference"])),
    ("hospital", "pay"): (HospitalPayable, lambda obj, d, u: services.hospital_payable_record_payment(
        payable=obj, amount=d["amount"], paid_on=d["on_date"], user=u, reference=d["reference"])),
}


def _back(contract: Contract, anchor: str = ""):
    response = redirect("finance:contract", code=contract.code)
    response["Location"] += f"#{anchor}" if anchor else ""
    return response


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def movement(request, target: str, pk: int, action: str):
    try:
        model, call = MOVEMENTS[(target, action)]
    except KeyError:
        raise Http404 from None
    obj = get_object_or_404(model.objects.for_user(request.user), pk=pk)
    form = forms.MovementForm(request.POST)
    if form.is_valid():
        try:
            call(obj, form.cleaned_data, request.user)
            messages.success(request, _("Recorded."))
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    else:
        messages.error(request, "；".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
    return _back(obj.contract, target)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def entry_reverse(request, pk: int):
    entry = get_object_or_404(LedgerEntry.objects.for_user(request.user), pk=pk)
    form = forms.ReverseForm(request.POST)
    if form.is_valid():
        try:
            services.ledger_entry_reverse(entry=entry, reason=form.cleaned_data["reason"], user=request.user,
                                          booked_on=form.cleaned_data["on_date"])
            messages.success(request, _("The entry was reversed."))
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    else:
        messages.error(request, _("Give a reason and a date for the reversal."))
    return _back(entry.contract, "ledger")


def _setup_schedule(contract, d, user, request):
    services.premium_schedule_generate(contract=contract, user=user, headcounts=d["headcounts"])


def _setup_headcount(contract, d, user, request):
    services.premium_headcount_change(contract=contract, headcounts=d["headcounts"], effective_on=d["effective_on"],
                                      reason=d["reason"], user=user, due_date=d["due_date"])


def _setup_event(contract, d, user, request):
    services.premium_event_record(contract=contract, event=d["event"], on_date=d["on_date"], user=user)


def _setup_deposit(contract, d, user, request):
    services.deposit_open(contract=contract, kind=d["kind"], required=d["required"], basis=d["basis"], user=user)


def _setup_revolving(contract, d, user, request):
    services.revolving_fund_open(contract=contract, last_year_income=d["last_year_income"], user=user)


def _setup_topup(contract, d, user, request):
    fund = get_object_or_404(RevolvingFund.objects.for_user(user), contract=contract)
    topup = services.revolving_topup_compute(fund=fund, month=d["month"], user=user)
    if d["paid_on"]:
        services.revolving_topup_record_payment(topup=topup, paid_on=d["paid_on"], user=user)


def _setup_prepayment(contract, d, user, request):
    services.prepayment_open(contract=contract, user=user)


def _setup_penalty(contract, d, user, request):
    services.penalty_impose(contract=contract, kind=d["kind"], amount=d["amount"], base=d["base"], area=d["area"],
                            imposed_on=d["imposed_on"], due_date=d["due_date"], reason=d["reason"], user=user)


def _setup_cases_closed(contract, d, user, request):
    pk = request.POST.get("deposit", "")
    if not (pk.isascii() and pk.isdigit() and len(pk) <= 18):  # a forged id: as unknown as a missing one
        raise Http404
    deposit = get_object_or_404(GuaranteeDeposit.objects.for_user(user), contract=contract, pk=pk)
    services.deposit_cases_closed(deposit=deposit, closed_on=d["closed_on"], objection=d["objection"], user=user)


SETUPS = {
    "schedule": (forms.ScheduleForm, _setup_schedule, "premium"),
    "headcount": (forms.HeadcountChangeForm, _setup_headcount, "premium"),
    "event": (forms.EventForm, _setup_event, "premium"),
    "deposit": (forms.DepositForm, _setup_deposit, "deposit"),
    "closed": (forms.CasesClosedForm, _setup_cases_closed, "deposit"),
    "revolving": (forms.RevolvingOpenForm, _setup_revolving, "revolving"),
    "topup": (forms.TopUpForm, _setup_topup, "revolving"),
    "prepayment": (None, _setup_prepayment, "prepayment"),
    "penalty": (forms.PenaltyForm, _setup_penalty, "penalty"),
}


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def contract_action(request, code: str, what: str):
    contract = _contract(request.user, code)
    try:
        form_class, call, anchor = SETUPS[what]
    except KeyError:
        raise Http404 from None
    kwargs = {"areas": Area.objects.filter(pk__in=[a.pk for a in selectors.areas_for(request.user, contract)])} if what == "penalty" else {}
    form = form_class(request.POST, **kwargs) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(request, "；".join(f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}" for f, e in form.errors.items()))
        return _back(contract, anchor)
    try:
        call(contract, form.cleaned_data if form else {}, request.user, request)
        messages.success(request, _("Recorded."))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return _back(contract, anchor)


# --- documents ------------------------------------------------------------------------------


def _send(document, fmt: str) -> HttpResponse:
    if fmt == "pdf":
        response = HttpResponse(documents.document_pdf(document), content_type="application/pdf")
    else:
        response = HttpResponse(documents.document_xlsx(document),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}.{fmt}"'
    return response


@login_required
@permission_required(VIEW, raise_exception=True)
def clearing(request, code: str, fmt: str):
    """The whole pool for users of the whole region; a county user gets their own county books
    only (as the report by county: another county's book is not theirs to read)."""
    contract = _contract(request.user, code)
    areas = None if selectors.sees_whole_region(request.user, contract) else selectors.areas_for(request.user, contract)
    return _send(reports.clearing_document(contract, areas=areas), fmt)


@login_required
@permission_required(VIEW, raise_exception=True)
def report(request, code: str):
    """?kind=monthly|quarterly|semiannual|annual&period=2025-03&area=150502&fmt=pdf|xlsx&basis=contract|cash"""
    kind, fmt = request.GET.get("kind", ""), request.GET.get("fmt", "pdf")
    if kind not in reports.REPORT_KINDS or fmt not in ("pdf", "xlsx"):
        raise Http404
    contract = _contract(request.user, code)
    area = None
    if request.GET.get("area"):
        area = next((a for a in selectors.areas_for(request.user, contract) if a.code == request.GET["area"]), None)
        if area is None:
            raise Http404
    elif not selectors.sees_whole_region(request.user, contract):
        # a county user reports on their own county, not on the whole region
        raise Http404
    try:
        start, end = forms.period_bounds(kind, request.GET.get("period", ""))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return _back(contract, "reports")
    return _send(reports.report_document(kind, contract, area, start, end, basis=fund_basis.clean_basis(request.GET.get("basis"))), fmt)

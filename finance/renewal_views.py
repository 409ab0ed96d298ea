"""Pages of a contract's renewal into its next year (续签下一年度) and of closing a year.

Administrators only (`programs.add_contract`); contracts are looked up through `for_user`,
so another region's contract answers 404. Every write is a POST through `finance.renewal`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from claims.plan_forms import PlanFiguresForm
from programs.models import BenefitPlan, Contract, EnrollmentCarryForward

from . import renewal
from .renewal_forms import HeadcountForm, PremiumRatesForm, rate_label

RENEW = "programs.add_contract"


def _contract(user, code: str, *, draft: bool = False) -> Contract:
    qs = Contract.objects.for_user(user, drafts=draft).select_related("program__region", "renewed_from")
    if draft:
        qs = qs.filter(status=Contract.Status.DRAFT)
    try:
        return qs.get(code=code)
    except Contract.DoesNotExist:
        raise Http404 from None


def _messages(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
@permission_required(RENEW, raise_exception=True)
@require_POST
def renewal_start(request, code: str):
    """续签下一年度: create (or open) the next year's draft."""
    contract = _contract(request.user, code)
    try:
        draft = renewal.renewal_create(contract=contract, user=request.user)
    except ValidationError as exc:
        _messages(request, exc)
        return redirect("contract_headcount", code=code)
    return redirect("renewal", code=draft.code)


def _forms(draft: Contract, data=None):
    plan = BenefitPlan.objects.get(contract=draft)
    return (
        PlanFiguresForm(plan.rules, data, prefix="plan"),
        PremiumRatesForm(draft.premium_rates.order_by("pk"), data, prefix="premium"),
        HeadcountForm(data, prefix="hc", initial={name: getattr(draft, name) for name in HeadcountForm.base_fields}),
    )


def _plan_groups(form: PlanFiguresForm) -> list[dict]:
    """The plan form's groups (one per liability) with bound fields in place of field names."""
    bound = lambda name: form[name] if name else None  # noqa: E731
    return [{
        "name": group["name"],
        "rows": [{"when": row["when"], "deductible": bound(row["deductible"]),
                  "bands": [{"upto": bound(b["upto"]), "rate": form[b["rate"]], "open": b["open"]} for b in row["bands"]]}
                 for row in group["rows"]],
        "caps": [form[name] for name in group["caps"]],
    } for group in form.groups]


@login_required
@permission_required(RENEW, raise_exception=True)
def renewal_page(request, code: str):
    """The draft: the figures grouped (plan by liability, premium per category, headcount), the
    installments read only, what changed against last year, and the Validate/Activate verbs."""
    draft = _contract(request.user, code, draft=True)
    plan_form, rates_form, headcount_form = _forms(draft, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if all(f.is_valid() for f in (plan_form, rates_form, headcount_form)):
            try:
                renewal.renewal_update(contract=draft, user=request.user, plan_rules=plan_form.document(),
                                       per_capita=rates_form.per_capita(), headcount=headcount_form.cleaned_data)
            except ValidationError as exc:
                _messages(request, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("renewal", code=draft.code)
        else:
            messages.error(request, _("Some figures are not valid; see the fields marked below."))
    previous = draft.renewed_from
    installments = previous.premium_installments.order_by("seq") if previous else []
    return render(request, "finance/renewal.html", {
        "draft": draft,
        "previous": previous,
        "plan_form": plan_form,
        "plan_groups": _plan_groups(plan_form),
        "plan_parameters": [plan_form[name] for name in plan_form.parameter_fields],
        "rates_form": rates_form,
        "rate_rows": [(rate_label(r), rates_form[f"rate_{r.pk}"]) for r in rates_form.rates],
        "headcount_form": headcount_form,
        "installments": installments,
        "changes": renewal.renewal_changes(draft),
    })


@login_required
@permission_required(RENEW, raise_exception=True)
@require_POST
def renewal_validate(request, code: str):
    draft = _contract(request.user, code, draft=True)
    problems = renewal.renewal_problems(draft)
    if problems:
        for problem in problems:
            messages.error(request, problem)
    else:
        messages.success(request, _("Every term is valid: the contract can be activated."))
    return redirect("renewal", code=draft.code)


@login_required
@permission_required(RENEW, raise_exception=True)
@require_POST
def renewal_activate(request, code: str):
    draft = _contract(request.user, code, draft=True)
    roll = request.POST.get("enrollments") == "roll"
    try:
        result = renewal.renewal_activate(contract=draft, user=request.user, roll_forward=roll)
    except ValidationError as exc:
        _messages(request, exc)
        return redirect("renewal", code=draft.code)
    if result.carry_forward is not None:
        messages.success(request, _("The contract is active; last year's %(n)s in-force enrollments are being carried "
                                    "forward (progress below).") % {"n": f"{result.carry_forward.progress_total:,}"})
    else:
        messages.success(request, _("The contract is active; its enrollment list is awaited."))
    return redirect("contract_headcount", code=draft.code)


@login_required
@permission_required(RENEW, raise_exception=True)
@require_POST
def contract_close(request, code: str):
    """结束年度."""
    contract = _contract(request.user, code)
    try:
        renewal.contract_close(contract=contract, user=request.user)
    except ValidationError as exc:
        _messages(request, exc)
    else:
        messages.success(request, _("The insurance year is closed. It stays readable; late claims within the filing window "
                                    "are still registered."))
    return redirect("contract_headcount", code=code)


def carry_forward_progress_of(carry: EnrollmentCarryForward) -> dict:
    return {"done": f"{carry.progress_done:,}", "total": f"{carry.progress_total:,}", "percent": carry.percent,
            "finished": carry.finished, "error": carry.error}


@login_required
@permission_required(RENEW, raise_exception=True)
def carry_forward_progress(request, code: str):
    """The renewal's roll-forward of last year's enrollments, as JSON for the progress bar."""
    contract = _contract(request.user, code)
    try:
        carry = EnrollmentCarryForward.objects.get(target=contract)
    except EnrollmentCarryForward.DoesNotExist:
        raise Http404 from None
    return JsonResponse(carry_forward_progress_of(carry))

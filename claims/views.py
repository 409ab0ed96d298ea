from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from insurance_admin.core.masking import can_see_full_identity
from programs import selectors as program_selectors
from programs.identity_access import identity_access_record
from programs.models import Contract, InsuredPerson

from . import documents, services
from .carry import CARRY_FLAG, carry_fields
from .engine import TrialInputError, explanation_steps
from .forms import TrialFormSet, parse_pasted
from .models import Claim
from .presentation import explanation_blocks


def enrolled_or_404(user, person_pk: int, contract_code: str):
    """(person, contract, enrollment) for a window page, within the user's areas; 404 when the
    person, the contract or the enrollment is not there for this user."""
    try:
        person = program_selectors.person_for_user(user, person_pk)
        contract = Contract.objects.for_user(user).select_related("program").get(code=contract_code)
        return person, contract, services.enrollment_of(person, contract)
    except (InsuredPerson.DoesNotExist, Contract.DoesNotExist, services.NotEnrolled):
        raise Http404 from None


@login_required
@permission_required("claims.run_trial", raise_exception=True)
def trial(request, person_pk: int, contract_code: str):
    """试算: the caseworker enters one or more settlement records and sees what each liability
    would pay on top of the person's approved year-to-date totals. Nothing is stored."""
    user = request.user
    person, contract, enrollment = enrolled_or_404(user, person_pk, contract_code)
    plan = services.plan_of(contract).engine_plan()
    formset = TrialFormSet(request.POST or None, plan=plan, prefix="r")
    pasted = request.POST.get("pasted", "").strip()
    paste_error = ""
    results = None
    records = []
    if request.method == "POST" and pasted:
        try:
            records = parse_pasted(pasted, plan)
        except TrialInputError as exc:
            paste_error = str(exc)
    elif request.method == "POST" and formset.is_valid():
        records = [f.record(i) for i, f in enumerate(formset.forms) if f.has_changed() and f.cleaned_data]
    not_covered = ""
    if records:
        try:
            evaluation, _before = services.trial_calculate(contract=contract, person=person, records=records)
        except services.NotCovered as exc:  # pays nothing: said, not calculated
            not_covered, records = str(exc), []
    if records:
        results = [
            {
                "setl_id": r.setl_id,
                "payable": r.payable,
                "by_liability": [(plan.liability(code).name, amount) for code, amount in r.by_liability.items()],
                "blocks": explanation_blocks(explanation_steps(r.explanation)),
            }
            for r in evaluation.results
        ]
    # the registration form's fields, so a 试算 becomes a registration without retyping
    carry = carry_fields(records) if results and user.has_perm("claims.add_claim") else []
    accumulated = services.accumulators_of(person, contract)
    key = services.engine_key(person)
    year_to_date = [
        {
            "name": li.name,
            "base": accumulated.base.get((key, li.code)),
            "paid": accumulated.paid.get((key, li.code)),
        }
        for li in plan.liabilities
    ]
    identity_access_record(user=user, person=person, where=request.path)
    return render(
        request,
        "claims/trial.html",
        {
            "person": person,
            "contract": contract,
            "enrollment": enrollment,
            "formset": formset,
            "pasted": pasted,
            "paste_error": paste_error,
            "not_covered": not_covered,
            "results": results,
            "year_to_date": year_to_date,
            "carry": carry,
            "carry_flag": CARRY_FLAG,
            "full_identity": can_see_full_identity(user),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("claims.print_slip", raise_exception=True)
def slip_pdf(request, pk: int):
    """结算单: a GET is a preview marked as such on every page and records nothing; a POST (the
    claim page's button, CSRF-checked) is a recorded print (copy 1 the original, later ones 补打).
    Out-of-area claims are a 404; claims not approved are refused."""
    claim = get_object_or_404(Claim.objects.for_user(request.user), pk=pk)
    printing = request.method == "POST"
    try:
        if printing:
            pdf = documents.slips_print(claims=[claim], user=request.user)
        else:
            pdf = documents.slips_preview(claims=[claim], user=request.user)
    except documents.SlipRefused as exc:
        return render(request, "claims/slip_refused.html", {"claim": claim, "messages_": exc.messages}, status=409)
    identity_access_record(user=request.user, person=claim.person, where=request.path)
    return pdf_response(pdf, f"slip-{claim.claim_no}{'' if printing else '-preview'}.pdf")


def pdf_response(pdf: bytes, filename: str, *, attachment: bool = False) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'{"attachment" if attachment else "inline"}; filename="{filename}"'
    return response

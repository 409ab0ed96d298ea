"""Renewal simulation pages (测算, issue 22 item 3) under /finance/simulations/.

Reading needs `finance.view_simulationrun` (finance staff, administrators, supervisors);
starting a run needs `finance.run_simulation` (finance staff, administrators). A run reads
every county's settlements of its contract, so runs and the form are offered only for
contracts whose whole region the user sees (`SimulationRun.objects.for_user`); anything else
answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from claims.plan_forms import PLAN_FIGURES_HELP, PlanFiguresForm
from claims.services import plan_of
from insurance_admin.accounts.scoping import area_scope_ids
from programs.models import BenefitPlan, Contract

from . import renewal, simulation_report
from .forms import SimulationTermsForm
from .models import PremiumSchedule, SimulationRun
from .selectors import terms_for
from .simulation_runs import simulation_run_create

VIEW = "finance.view_simulationrun"
RUN = "finance.run_simulation"


def simulation_contracts(user):
    """Contracts whose whole region the user sees (a run covers all their counties)."""
    ids = area_scope_ids(user)
    contracts = Contract.objects.select_related("program__region").order_by("-year", "name")
    return contracts if ids is None else contracts.filter(program__region_id__in=ids)


def _run(user, pk: int) -> SimulationRun:
    return get_object_or_404(SimulationRun.objects.for_user(user).select_related("contract", "created_by"), pk=pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def simulation_list(request):
    runs = SimulationRun.objects.for_user(request.user).select_related("contract", "created_by")
    by_contract = {}
    for run in runs[:500]:
        by_contract.setdefault(run.contract_id, []).append(run)
    rows = [(c, by_contract.get(c.pk, [])) for c in simulation_contracts(request.user)]
    return render(request, "finance/simulations.html", {"rows": rows, "can_run": request.user.has_perm(RUN)})


def _plan_groups(form: PlanFiguresForm) -> list[dict]:
    """The form's groups with bound fields, for tables per liability (rows, bands, caps)."""
    groups = []
    for group in form.groups:
        rows = []
        for row in group["rows"]:
            rows.append({
                "when": row["when"],
                "deductible": form[row["deductible"]] if row["deductible"] else None,
                "bands": [{"number": k + 1, "upto": form[b["upto"]] if b["upto"] else None, "open": b["open"],
                           "rate": form[b["rate"]]} for k, b in enumerate(row["bands"])],
            })
        groups.append({"name": group["name"], "rows": rows, "caps": [form[name] for name in group["caps"]]})
    return groups


@login_required
@permission_required(RUN, raise_exception=True)
def simulation_new(request, code: str):
    contract = get_object_or_404(simulation_contracts(request.user), code=code)
    try:
        document = plan_of(contract).rules
    except BenefitPlan.DoesNotExist:  # a contract being set up: nothing to simulate yet
        raise Http404 from None
    schedule = PremiumSchedule.objects.filter(contract=contract).first()
    per_capita = schedule.per_capita if schedule else {}
    retention = terms_for(contract).retention_limit
    data = request.POST if request.method == "POST" else None
    plan_form = PlanFiguresForm(document, data=data)
    terms_form = SimulationTermsForm(per_capita, retention, data=data)
    if request.method == "POST":
        plan_ok, terms_ok = plan_form.is_valid(), terms_form.is_valid()
        if plan_ok and terms_ok:
            try:
                run = simulation_run_create(
                    contract=contract, user=request.user, plan=plan_form.document(), per_capita=terms_form.per_capita(),
                    target_kind=terms_form.cleaned_data["target_kind"], target=terms_form.target_fraction(),
                    changes=plan_form.changes() + terms_form.changes())
            except ValidationError as exc:
                terms_form.add_error(None, exc)
            else:
                return redirect("finance:simulation", pk=run.pk)
    return render(request, "finance/simulation_new.html", {
        "contract": contract, "plan_form": plan_form, "terms_form": terms_form, "groups": _plan_groups(plan_form),
        "parameters": [plan_form[name] for name in plan_form.parameter_fields], "help": PLAN_FIGURES_HELP,
        "per_capita_fields": [terms_form[name] for _c, name in terms_form.categories], "has_schedule": schedule is not None,
    })


def _progress(run: SimulationRun) -> dict:
    return {"status": run.status, "status_display": str(run.get_status_display()), "done": run.progress_done,
            "total": run.progress_total, "percent": run.percent, "finished": run.finished, "error": run.error}


@login_required
@permission_required(VIEW, raise_exception=True)
def simulation_detail(request, pk: int):
    run = _run(request.user, pk)
    context = {"run": run, "progress": _progress(run), "title": simulation_report.title_of(run)}
    if run.status == SimulationRun.Status.DONE:
        comp = simulation_report.comparison(run)
        context.update(comp=comp, charts=comp.charts)
    return render(request, "finance/simulation.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
def simulation_progress(request, pk: int):
    return JsonResponse(_progress(_run(request.user, pk)))


@login_required
@permission_required(VIEW, raise_exception=True)
def simulation_export(request, pk: int, fmt: str):
    run = _run(request.user, pk)
    if run.status != SimulationRun.Status.DONE:
        raise Http404
    if fmt == "pdf":
        response = HttpResponse(simulation_report.comparison_pdf(run), content_type="application/pdf")
    else:
        response = HttpResponse(simulation_report.comparison_xlsx(run),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{simulation_report.filename_of(run)}.{fmt}"'
    return response



@login_required
@permission_required("programs.add_contract", raise_exception=True)
@require_POST
def simulation_to_renewal(request, pk: int):
    """设为续签方案: the run's scenario becomes the plan of its contract's next-year draft."""
    run = _run(request.user, pk)
    try:
        draft = renewal.renewal_from_simulation(run=run, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("finance:simulation", pk=run.pk)
    messages.success(request, _("The scenario is now the plan of the next year's draft; check it and activate it."))
    return redirect("renewal", code=draft.code)

"""Simulation runs (测算 as a job, issue 22 item 3): create a run from a scenario, execute it
in a Celery worker with its progress written per chunk, and hand its scenario plan to the
renewal.

Lifecycle: `queued` (created, the task enqueued when the transaction commits) → `running`
(claimed by the worker; `progress_done/progress_total` updated after every chunk, each in its
own small committed UPDATE so the page's poll sees it) → `done` (the result written in one
UPDATE with the status) or `failed` (the error in Chinese, no result). A redelivered task
(acks_late after a worker died) takes a queued or running run again from the start; a
finished run is never computed again.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from programs.models import Contract

from .models import SimulationRun, SimulationStatus, SimulationTarget
from .simulation import Scenario, SimulationResult, simulate

logger = logging.getLogger(__name__)
LANGUAGE = "zh-hans"  # the stored error and formula are read by Chinese users


def result_document(result: SimulationResult, scenario: Scenario) -> dict:
    """What a run stores: `SimulationResult.as_dict()` plus both sides' histograms, the
    suggestion's formula in words, and what the page needs to state it with figures (the
    contract's own per-capita premiums, the paying headcount) and to compute the fund usage
    (the operating cost rate of the finance terms)."""
    from .selectors import terms_for
    from .simulation import _headcounts

    data = result.as_dict()
    for name, side in (("actual", result.actual), ("scenario", result.scenario)):
        data[name]["histogram"] = [[label, count] for label, count in side.histogram()]
    data["suggestion_formula"] = str(result.suggestion_formula)
    _counts, own = _headcounts(result.contract)
    rates = {k: Decimal(str(v)) for k, v in (scenario.per_capita or own).items()}
    paying = sum(n for c, n in result.headcount.items() if rates.get(c, Decimal(0)) > 0) or sum(result.headcount.values())
    data["own_per_capita"] = {k: str(v) for k, v in sorted(own.items())}
    data["paying_headcount"] = paying
    terms = terms_for(result.contract)
    data["operating_cost_rate"] = str(terms.operating_cost_rate)
    data["commitment_rate"] = str(terms.commitment_rate)
    return data


def scenario_of(run: SimulationRun) -> Scenario:
    target = Decimal(run.target)
    return Scenario(
        plan=run.plan,
        per_capita={k: Decimal(str(v)) for k, v in run.per_capita.items()} or None,
        target_surplus_rate=target if run.target_kind == SimulationTarget.SURPLUS_RATE else None,
        target_loss_ratio=target if run.target_kind == SimulationTarget.LOSS_RATIO else None,
    )


def simulation_run_create(*, contract: Contract, user, plan: Mapping, per_capita: Mapping[str, Decimal],
                          target_kind: str, target: Decimal, changes: list | None = None) -> SimulationRun:
    """Store the scenario and enqueue the job once the transaction commits."""
    from .tasks import simulation_run_task

    if target_kind not in SimulationTarget.values:
        raise ValidationError(_("Choose a target surplus rate or a target loss ratio."), code="target")
    valid = Decimal(0) <= target < 1 if target_kind == SimulationTarget.SURPLUS_RATE else Decimal(0) < target <= 1
    if not valid:
        raise ValidationError(_("The target must lie between 0 and 100 %."), code="target")
    with transaction.atomic():
        run = SimulationRun.objects.create(
            contract=contract, created_by=user, plan=dict(plan), per_capita={k: str(v) for k, v in per_capita.items()},
            changes=[list(c) for c in (changes or [])], target_kind=target_kind, target=target,
        )
        simulation_run_task.delay_on_commit(run.pk)
    return run


def _progress(run_id: int):
    def report(done: int, total: int) -> None:
        # its own UPDATE, committed at once (the worker runs outside a transaction)
        SimulationRun.objects.filter(pk=run_id).update(progress_done=done, progress_total=total)
    return report


def simulation_run_execute(run_id: int) -> SimulationRun | None:
    """Run one queued simulation (the Celery task's one call). Returns None when there is
    nothing to do (unknown or finished run)."""
    claimed = SimulationRun.objects.filter(pk=run_id, status__in=[SimulationStatus.QUEUED, SimulationStatus.RUNNING]).update(
        status=SimulationStatus.RUNNING, started_at=timezone.now(), progress_done=0, error="")
    if not claimed:
        return None
    run = SimulationRun.objects.select_related("contract").get(pk=run_id)
    with translation.override(LANGUAGE):
        try:
            scenario = scenario_of(run)
            result = simulate(run.contract, scenario, progress=_progress(run_id))
            data = result_document(result, scenario)
        except ValidationError as exc:
            error = _("The simulation failed: %(error)s") % {"error": "；".join(exc.messages)}
        except Exception:  # noqa: BLE001 - a run must end, the worker's log keeps the trace
            logger.exception("simulation run %s failed", run_id)
            error = _("The simulation failed because of an internal error; the system administrator has the details.")
        else:
            SimulationRun.objects.filter(pk=run_id).update(
                status=SimulationStatus.DONE, result=data, error="", finished_at=timezone.now(),
                progress_done=result.records, progress_total=result.records)
            return SimulationRun.objects.get(pk=run_id)
    SimulationRun.objects.filter(pk=run_id).update(status=SimulationStatus.FAILED, result=None, error=error,
                                                   finished_at=timezone.now())
    return SimulationRun.objects.get(pk=run_id)


def simulation_plan_document(run: SimulationRun) -> dict:
    """The scenario's plan document (the engine's format, as `BenefitPlan.rules` holds it):
    what "设为续签方案" hands to the renewal (issue 22 item 2) to become next year's plan.
    Only a finished run's scenario is offered; the renewal validates and stores it."""
    if run.status != SimulationStatus.DONE:
        raise ValidationError(_("Only a finished simulation can become the renewal's plan."), code="not_done")
    return copy.deepcopy(run.plan)

"""Pure benefit-calculation engine (DOMAIN.md §4): plans as data, Decimal arithmetic, no Django.

The plans themselves (their types, dict form, validation and the seed contracts' plans) are the
benefit rules programs owns (`programs.benefit_rules`, pure as well); they are re-exported here
because they are the engine's input.

Public API (see each module): plans (`Plan`, `plan_from_dict`, `plan_to_dict`, `validate_plan`),
inputs (`PersonAttributes`, `SettlementRecord`, `ItemLine`, `Accumulators`), the engine
(`evaluate`, `evaluate_one`, `Evaluator` for chunked batches, `compile_plan`), explanations
(`explanation_steps`), the trial-calc interface (`run_trial`, `parse_trial_input`,
`trial_output`, `result_entry`, `TrialInputError`, `UnknownProgram`) and the seed contracts
(`seed_plans`, `SEED_PLAN_DICTS`).
"""

from programs.benefit_rules.plan import (
    Band,
    BaseTerm,
    CapRow,
    ItemCap,
    Liability,
    Parameter,
    ParamRef,
    Plan,
    ScheduleRow,
    Selector,
    SharedCap,
)
from programs.benefit_rules.plan_dict import PlanFormatError, plan_from_dict, plan_to_dict
from programs.benefit_rules.seed_plans import SEED_PLAN_DICTS, seed_plans
from programs.benefit_rules.validation import validate_plan

from .cli import UnknownProgram, run_trial
from .compiled import CompiledPlan, InvalidPlan, compile_plan
from .core import (
    EngineInputError,
    Evaluation,
    Evaluator,
    RecordResult,
    ResultBatch,
    evaluate,
    evaluate_one,
)
from .explain import LiabilityExplanation, RecordExplanation, explanation_steps
from .io import (
    TrialInput,
    TrialInputError,
    parse_trial_input,
    result_entry,
    serialise_trial_output,
    trial_output,
)
from .records import Accumulators, DatedAttributes, ItemLine, PersonAttributes, SettlementRecord

__all__ = [
    "Accumulators", "Band", "BaseTerm", "CapRow", "CompiledPlan", "DatedAttributes", "EngineInputError", "Evaluation", "Evaluator",
    "InvalidPlan", "ItemCap", "ItemLine", "Liability", "LiabilityExplanation", "Parameter", "ParamRef",
    "PersonAttributes", "Plan", "PlanFormatError", "RecordExplanation", "RecordResult", "ResultBatch",
    "ScheduleRow",
    "Selector", "SEED_PLAN_DICTS", "SettlementRecord", "SharedCap", "TrialInput", "TrialInputError",
    "UnknownProgram", "compile_plan", "evaluate", "evaluate_one", "explanation_steps",
    "parse_trial_input", "plan_from_dict", "plan_to_dict", "result_entry", "run_trial", "seed_plans",
    "serialise_trial_output", "trial_output", "validate_plan",
]

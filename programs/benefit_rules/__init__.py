"""Benefit rules as data (DOMAIN.md §4): the plan document a contract's benefit plan is written in.

programs owns the rules (a BenefitPlan's `rules` are read, checked and summarised here); claims
owns the calculation (`claims.engine` evaluates settlements under a `Plan`). This package is pure
— no Django, no app code; a contract in pyproject.toml keeps it so — and it is the only part of
the plan format the engine and programs share.

Public API: the plan's types (`Plan`, `Liability`, `Band`, ...), `plan_from_dict` /
`plan_to_dict` (the stored dict form), `validate_plan`, the glossary of codes the engine
understands, and the seed contracts' plans (`seed_plans`, `SEED_PLAN_DICTS`).
"""

from .plan import (
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
from .plan_dict import PlanFormatError, plan_from_dict, plan_to_dict
from .seed_plans import SEED_PLAN_DICTS, seed_plans
from .validation import validate_plan

__all__ = [
    "Band", "BaseTerm", "CapRow", "ItemCap", "Liability", "Parameter", "ParamRef", "Plan",
    "PlanFormatError", "ScheduleRow", "Selector", "SEED_PLAN_DICTS", "SharedCap",
    "plan_from_dict", "plan_to_dict", "seed_plans", "validate_plan",
]

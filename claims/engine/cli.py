"""Trial calculation (试算) from JSON text to JSON text: the body of `manage.py trial_calc`.

A dry run: it starts from the given accumulators (fresh by default) and persists nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from itertools import islice

from programs.benefit_rules.plan import Plan

from .compiled import compile_plan
from .core import Evaluator
from .io import TrialInputError, check_document, iter_settlements, load_json, result_entry
from .records import Accumulators

_CHUNK = 16  # records per chunk: few enough that their explanation objects are freed before the
# garbage collector first runs (700 allocations); chunks of 500 made run_trial 40 % slower


class UnknownProgram(TrialInputError):
    """No plan with the requested program code."""


def run_trial(
    code: str,
    input_text: str | bytes,
    plans: Mapping[str, Plan],
    *,
    accumulators: Accumulators | None = None,
    explain: bool = True,
) -> str:
    """Evaluate the trial-calc input against plan `code`; return the output JSON text.

    Raises UnknownProgram or TrialInputError (both TrialInputError) with a message fit for
    the user; the caller turns them into a non-zero exit or a form error. Records are parsed,
    evaluated and serialised in chunks, so that the garbage collector never has to walk
    every explanation of a large input at once.
    """
    plan = plans.get(code)
    if plan is None:
        known = ", ".join(sorted(plans)) or "none"
        raise UnknownProgram(f'unknown program "{code}" (known: {known})')
    compiled = compile_plan(plan)
    persons, settlements = check_document(load_json(input_text))
    evaluator = Evaluator(compiled, persons, accumulators)
    encode = json.JSONEncoder(ensure_ascii=False).encode
    records = iter_settlements(settlements, persons, compiled)
    # The same text as json.dumps(trial_output(...), ensure_ascii=False), built chunk by chunk
    # and joined once (the output of 100,000 explained records is over 100 MB).
    parts = [f'{{"program": {encode(plan.code)}, "results": [']
    separator = ""
    while chunk := list(islice(records, _CHUNK)):
        entries = [result_entry(r) for r in evaluator.run(chunk, explain=explain)]
        parts.append(separator + encode(entries)[1:-1])  # the list's items, without brackets
        separator = ", "
    parts.append("]}")
    return "".join(parts)

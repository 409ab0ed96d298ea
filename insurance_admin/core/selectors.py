"""Non-trivial reads of core: deadlines as of a day (the command, the inbox and the scan share
`deadlines.state_conditions`)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, CharField, Q, QuerySet, Value, When

from .deadlines import state_conditions
from .models import Deadline

#: listing order: what needs attention first
STATE_ORDER = [Deadline.State.OVERDUE, Deadline.State.DUE_TODAY, Deadline.State.DUE_SOON, Deadline.State.UPCOMING,
               Deadline.State.MET]


def deadlines_as_of(on: dt.date, *, contract: str | None = None, area: str | None = None, kind: str | None = None,
                    state: str | None = None, user=None) -> QuerySet[Deadline]:
    """Every deadline with `state_on` = its state as of `on`, overdue first, then by due date.
    `contract` / `area` are codes; an area code also matches its counties' deadlines."""
    conditions = state_conditions(on)
    qs = Deadline.objects.all() if user is None else Deadline.objects.for_user(user)
    qs = qs.select_related("contract", "area").annotate(
        state_on=Case(*[When(cond, then=Value(s)) for s, cond in conditions.items()], output_field=CharField()),
        state_rank=Case(*[When(conditions[s], then=Value(i)) for i, s in enumerate(STATE_ORDER)]),
    )
    if contract:
        qs = qs.filter(contract__code=contract)
    if area:
        qs = qs.filter(Q_area(area))
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(conditions[state])
    return qs.order_by("state_rank", "due_date", "kind", "id")


def Q_area(code: str):  # noqa: N802 - reads as a Q object

    return Q(area__code=code) | Q(area__parent__code=code)


def deadline_row(d: Deadline) -> dict:
    """The command's JSON row (issue 20): kind, contract, area, object, due_date, state, role."""
    return {
        "kind": d.kind,
        "contract": d.contract.code if d.contract_id else None,
        "area": d.area.code if d.area_id else None,
        "object": d.label,
        "due_date": d.due_date.isoformat(),
        "state": d.state_on,
        "role": d.role,
    }

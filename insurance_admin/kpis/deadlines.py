"""Overdue obligations now: every kind of deadline record (`insurance_admin.core.deadlines`:
claim service times, premium installments, hospital payments, revolving fund, pre-payment,
deposit return, and any kind added later), open and past its due date as of a day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from insurance_admin.core.models import Deadline
from programs.models import Contract

from .registry import register
from .scope import scoped


def overdue(contract: Contract, areas, today: dt.date):
    """Open deadlines of the contract in the areas whose due date is before `today`. A
    contract-wide obligation (booked to the pooling region) counts when the region is given."""
    qs = Deadline.objects.filter(contract=contract, met_on__isnull=True, due_date__lt=today)
    return scoped(qs, areas)


@dataclass(frozen=True)
class OverdueKind:
    kind: str
    label: str
    count: int
    oldest_due: dt.date


def overdue_by_kind(contract: Contract, areas, today: dt.date) -> list[OverdueKind]:
    labels = dict(Deadline.Kind.choices)
    rows = overdue(contract, areas, today).order_by().values("kind").annotate(n=Count("id"), oldest=Min("due_date"))
    return sorted((OverdueKind(r["kind"], str(labels.get(r["kind"], r["kind"])), r["n"], r["oldest"]) for r in rows),
                  key=lambda r: r.kind)


@register("deadlines.overdue_now", _("Overdue obligations now"), "count")
def kpi_overdue_now(contract, areas, start, end) -> Decimal:
    """As of today (the period does not apply: it counts what is overdue now)."""
    return Decimal(overdue(contract, areas, timezone.localdate()).count())

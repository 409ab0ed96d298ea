"""Claim-service KPIs (DOMAIN.md §6): how the manual claims' working-day deadlines were kept.

The deadline of a manual claim is its `due_date` (`claims.deadlines`: counted in working days
from complete documents, per the contract's `ClaimTerms`); it is met when the claim is paid on
or before that day (`Claim.paid_on`, the same rule as the deadline records in
`insurance_admin.core.deadlines`)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _

from claims.models import Claim

from .registry import register


def _claims(contract, areas, start: dt.date, end: dt.date):
    claims = Claim.objects.filter(contract=contract, status=Claim.Status.PAID, paid_on__range=(start, end), due_date__isnull=False)
    if areas is not None:
        codes = list(areas)
        claims = claims.filter(Q(area__code__in=codes) | Q(area__parent__code__in=codes))
    return claims


@register("claims.on_time_rate", _("Manual claims paid on time"), "%")
def on_time_rate(contract, areas, start: dt.date, end: dt.date) -> Decimal | None:
    """Percentage (0–100, two decimals, half-up) of the manual claims paid in [start, end] that
    were paid on or before their due date; None when none with a deadline was paid."""
    counts = _claims(contract, areas, start, end).aggregate(
        total=Count("id"), on_time=Count("id", filter=Q(paid_on__lte=F("due_date"))))
    if not counts["total"]:
        return None
    return (Decimal(counts["on_time"]) * 100 / Decimal(counts["total"])).quantize(Decimal("0.01"), ROUND_HALF_UP)

"""What every KPI of this package shares: the areas a KPI reads (codes, each with its counties)
and the period (inclusive dates). A KPI never widens the areas it is given: the caller (a
dashboard view, an assessment) passes the codes the user may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from programs.models import Area

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def area_ids(areas: Iterable[str] | None) -> list[int] | None:
    """The ids of the areas named by code and of their counties; None: every area."""
    if areas is None:
        return None
    codes = list(areas)
    return list(Area.objects.filter(Q(code__in=codes) | Q(parent__code__in=codes)).values_list("pk", flat=True))


def scoped(qs, areas: Iterable[str] | None, area: str = "area"):
    """`qs` limited to the areas named by code and their counties, by a join on the area table
    (no separate round trip to resolve the codes)."""
    if areas is None:
        return qs
    codes = list(areas)
    return qs.filter(Q(**{f"{area}__code__in": codes}) | Q(**{f"{area}__parent__code__in": codes}))


def in_period(field: str, start: dt.date | None, end: dt.date | None) -> Q:
    q = Q()
    if start is not None:
        q &= Q(**{f"{field}__gte": start})
    if end is not None:
        q &= Q(**{f"{field}__lte": end})
    return q


def pct(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part / whole in percent, 2 dp half-up; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(CENT, rounding=ROUND_HALF_UP)

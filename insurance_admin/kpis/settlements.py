"""Platform-vs-engine differences of instant settlements (审核): the platform's own
hifmi_pay/hifob_pay against the engine's recomputation (`claims.SettlementCheck`), settlements
dated by discharge."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Abs
from django.utils.translation import gettext_lazy as _

from claims.models import SettlementCheck
from programs.models import Contract

from .registry import register
from .scope import in_period, scoped

NIL = Decimal("0.00")


def checks(contract: Contract, areas, start, end):
    qs = SettlementCheck.objects.filter(contract=contract).filter(in_period("settlement__enddate", start, end))
    return scoped(qs, areas, "settlement__area")


@dataclass(frozen=True)
class HospitalDifference:
    code: str
    name: str
    checked: int
    differing: int
    difference: Decimal  # engine - platform, summed
    absolute: Decimal


@dataclass(frozen=True)
class Differences:
    checked: int
    differing: int
    platform: Decimal
    engine: Decimal
    difference: Decimal  # engine - platform
    absolute: Decimal  # sum of |difference|
    by_hospital: list[HospitalDifference]


def platform_engine_differences(contract: Contract, areas, start, end, *, top: int = 10) -> Differences:
    qs = checks(contract, areas, start, end).order_by()
    differing = ~Q(difference=0) & Q(difference__isnull=False)
    totals = qs.aggregate(n=Count("pk"), d=Count("pk", filter=differing), platform=Sum("platform_payable"),
                          engine=Sum("engine_payable"), diff=Sum("difference"), abs=Sum(Abs("difference")))
    hospitals = (
        qs.values("settlement__fixmedins_code", "settlement__fixmedins_name")
        .annotate(n=Count("pk"), d=Count("pk", filter=differing), diff=Sum("difference"), abs=Sum(Abs("difference")))
        .filter(d__gt=0).order_by("-abs", "settlement__fixmedins_name")[:top]
    )
    return Differences(
        totals["n"], totals["d"], totals["platform"] or NIL, totals["engine"] or NIL, totals["diff"] or NIL,
        totals["abs"] or NIL,
        [HospitalDifference(h["settlement__fixmedins_code"], h["settlement__fixmedins_name"], h["n"], h["d"],
                            h["diff"] or NIL, h["abs"] or NIL) for h in hospitals],
    )


@register("settlements.differing", _("Instant settlements where the platform and the engine differ"), "count")
def kpi_differing(contract, areas, start, end) -> Decimal:
    return Decimal(platform_engine_differences(contract, areas, start, end, top=0).differing)

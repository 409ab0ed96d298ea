"""The staffing KPI: shortfalls against the contract's commitments at the end of the period."""

from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from insurance_admin.kpis.registry import register
from programs.models import Area

from .selectors import staffing_shortfalls


def area_ids_of(codes) -> set[int] | None:
    """Area ids for KPI area codes (a pooling region's code brings its counties); None: all."""
    if codes is None:
        return None
    codes = list(codes)
    return set(Area.objects.filter(Q(code__in=codes) | Q(parent__code__in=codes)).values_list("pk", flat=True))


@register("staffing_shortfalls", _("Staffing shortfalls"), "count")
def staffing_shortfall_count(contract, areas, start, end) -> Decimal:
    return Decimal(len(staffing_shortfalls(contract, end, area_ids=area_ids_of(areas))))

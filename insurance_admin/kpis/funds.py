"""Fund KPIs: usage against the commitment (Taikang 90 %), loss ratio, surplus rate against the
retention band (Tongliao 3 %), rolling surplus against its warning line (Taikang 30 % of last
year's premium).

The fund figures are read through the finance app's public selector, in ONE place
(`fund_position_of` below): when finance offers other bases (contract year, cash), only that
function changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from finance import selectors as finance_selectors
from finance.models import FinanceTerms
from programs.models import Area, Contract

from .registry import register
from .scope import CENT, HUNDRED


def fund_position_of(contract: Contract, area: Area | None, start: dt.date | None, end: dt.date | None):
    """The one call of the finance selector (see the module doc)."""
    return finance_selectors.fund_position(contract, area, start=start, end=end)


def book_of(contract: Contract, areas) -> tuple[bool, Area | None]:
    """(computable, area) for the finance selector: the whole contract (None) when no areas or
    the contract's region is given, one county book when one county is given; several counties
    are not one book (not computable)."""
    if areas is None:
        return True, None
    codes = set(areas)
    region = contract.program.region
    if region.code in codes:
        return True, None
    books = [a for a in finance_selectors.area_books(contract) if a.code in codes]
    if len(books) == 1:
        return True, books[0]
    return False, None


def _pct(rate: Decimal | None) -> Decimal | None:
    return None if rate is None else (rate * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class FundFigures:
    position: object | None  # finance.selectors.FundPosition; None: the areas are not one book
    clearing: str
    usage_rate: Decimal | None  # percent
    commitment: Decimal  # percent
    below_commitment: bool
    loss_ratio: Decimal | None  # percent
    surplus_rate: Decimal | None  # percent, (fund - medical spend) / fund
    retention_limit: Decimal  # percent (3.00)
    surplus_status: str  # "within", "above" (excess returned), "loss" (overspend shared), ""
    rolling_surplus: Decimal | None  # yuan, after this year
    rolling_line: Decimal | None  # yuan, warning_threshold x last year's premium
    rolling_ratio: Decimal | None  # percent of last year's premium
    rolling_threshold: Decimal  # percent (30.00)
    rolling_below_line: bool


def fund_figures(contract: Contract, areas, start: dt.date | None, end: dt.date | None) -> FundFigures:
    terms = finance_selectors.terms_for(contract)
    computable, area = book_of(contract, areas)
    position = fund_position_of(contract, area, start, end) if computable else None
    surplus = None
    status = ""
    if position is not None and position.fund:
        surplus = ((position.fund - position.medical_spend) / position.fund)
        if terms.clearing == FinanceTerms.Clearing.CYCLE:
            status = "loss" if surplus < 0 else ("above" if surplus > terms.retention_limit else "within")
    usage = position.usage if position is not None else None
    rolling_ratio = None
    if usage is not None and usage.last_year_premium:
        rolling_ratio = _pct(usage.new_rolling_surplus / usage.last_year_premium)
    return FundFigures(
        position=position, clearing=terms.clearing,
        usage_rate=_pct(position.usage_rate) if position else None, commitment=_pct(terms.commitment_rate),
        below_commitment=bool(position and position.below_commitment),
        loss_ratio=_pct(position.loss_ratio) if position else None, surplus_rate=_pct(surplus),
        retention_limit=_pct(terms.retention_limit), surplus_status=status,
        rolling_surplus=usage.new_rolling_surplus if usage else None, rolling_line=usage.warning_amount if usage else None,
        rolling_ratio=rolling_ratio, rolling_threshold=_pct(terms.warning_threshold),
        rolling_below_line=bool(usage and usage.financing_adjustment_warning),
    )


@register("funds.usage_rate", _("Fund usage rate"), "%")
def kpi_usage_rate(contract, areas, start, end):
    return fund_figures(contract, areas, start, end).usage_rate


@register("funds.loss_ratio", _("Loss ratio"), "%")
def kpi_loss_ratio(contract, areas, start, end):
    return fund_figures(contract, areas, start, end).loss_ratio


@register("funds.surplus_rate", _("Surplus rate"), "%")
def kpi_surplus_rate(contract, areas, start, end):
    return fund_figures(contract, areas, start, end).surplus_rate


@register("funds.rolling_surplus_ratio", _("Rolling surplus as a share of last year's premium"), "%")
def kpi_rolling_ratio(contract, areas, start, end):
    return fund_figures(contract, areas, start, end).rolling_ratio

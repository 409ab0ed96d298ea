"""KPIs by key. A KPI is a function `(contract, areas, start, end) -> Decimal | None` (areas: an
iterable of area codes or None for all the user may see) with a Chinese label and a unit. The
dashboards show them; an assessment item of kind "measured" names one by its key (data), and
its scoring rule turns the value into points."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class KPI:
    key: str
    label: str  # lazily translated, shown to users
    unit: str  # "%", "days", "count", "yuan"
    func: Callable


_KPIS: dict[str, KPI] = {}

#: keys that were merged into another KPI: stored data was migrated to the new key (e.g. the
#: assessment items, assessments migration 0003); a reference still naming the old key reads the
#: same figure. Never listed among the choices.
RENAMED: dict[str, str] = {
    "claims.on_time_rate": "claims.paid_within_limit_rate",  # one on-time definition (issue 21)
}


def register(key: str, label, unit: str):
    """Decorator: register a KPI function under `key` (a stable key stored in assessment data)."""

    def wrap(func):
        if key in _KPIS and _KPIS[key].func is not func:
            raise ValueError(f"KPI {key!r} registered twice")
        _KPIS[key] = KPI(key, label, unit, func)
        return func

    return wrap


def get(key: str) -> KPI:
    return _KPIS[RENAMED.get(key, key)]


def choices() -> list[tuple[str, str]]:
    return [(k.key, k.label) for k in sorted(_KPIS.values(), key=lambda k: k.key)]


def all_kpis() -> list[KPI]:
    return sorted(_KPIS.values(), key=lambda k: k.key)

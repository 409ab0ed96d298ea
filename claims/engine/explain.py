"""Explanations of engine results: built only when asked (`evaluate(..., explain=True)`).

The classes are plain slotted dataclasses (not frozen: a frozen one costs five times more to
build, and trial calculations explain every record); treat them as read-only.

Slips and the UI show every step (DOMAIN.md §4 point 6): base and its terms, deductible,
each band portion with its rate, the raw sum, the one rounding, each cap checked, and the
cumulative figures before and after, with the remaining sum insured.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from programs.benefit_rules.glossary import CENT


@dataclass(slots=True)
class ItemExplanation:
    """How much of one itemised line counted toward the base (per-item caps)."""

    code: str
    item_type: str
    amount: Decimal
    item_cap: Decimal | None  # None: this item type has no per-item cap
    limit: Decimal | None  # base limit = round(item_cap / rate, 2)
    counted_before: Decimal
    counted: Decimal


@dataclass(slots=True)
class BandPortion:
    """The part (lower, upper] of the record's cumulative-base interval inside one band."""

    lower: Decimal
    upper: Decimal
    rate: Decimal
    amount: Decimal  # (upper - lower) * rate, unrounded


@dataclass(slots=True)
class CapCheck:
    """One annual cap checked against the rounded amount."""

    code: str
    name: str
    limit: Decimal | None  # None: no cap
    paid_before: Decimal
    left: Decimal | None
    applied: bool  # True when this cap reduced the payment
    remaining: Decimal | None  # left after this record's payment


@dataclass(slots=True)
class LiabilityExplanation:
    """Every step of one liability for one record; only `liability`, `name`, `covered` and
    `reason` are set when the liability covers the claim kind but not this record."""

    liability: str
    name: str
    covered: bool
    reason: str | None = None  # why not covered
    rule: str | None = None  # the schedule row that applied
    terms: tuple[tuple[int, str, Decimal], ...] = ()
    items: tuple[ItemExplanation, ...] = ()
    base: Decimal | None = None
    deductible: Decimal | None = None
    cum_base_before: Decimal | None = None
    cum_base_after: Decimal | None = None
    portions: tuple[BandPortion, ...] = ()
    raw: Decimal | None = None
    rounded: Decimal | None = None
    caps: tuple[CapCheck, ...] = ()
    payable: Decimal | None = None
    cum_paid_before: Decimal | None = None
    cum_paid_after: Decimal | None = None
    remaining: Decimal | None = None  # smallest remaining sum insured of the caps, None = no cap


@dataclass(slots=True)
class RecordExplanation:
    """One record's explanation: a reason when nothing applies at all, else one line per
    liability covering the claim kind."""

    outside: str | None  # the whole record is outside the plan (period, claim kind)
    lines: tuple[LiabilityExplanation, ...]


def money(value: Decimal) -> str:
    """Yuan with exactly two decimals. Engine amounts already have two (a Decimal with
    exponent -2 always prints plainly), so `str` suffices except for hand-built inputs."""
    text = str(value)
    if len(text) > 3 and text[-3] == ".":
        return text
    return exact(value)


def exact(value: Decimal) -> str:
    """An amount shown exactly: two decimals, more only when they are not zero (unrounded
    products, or hand-built inputs); never silently rounded."""
    cents = value.quantize(CENT)
    if cents == value:
        return format(cents, "f")
    return format(value.normalize(), "f")


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else money(value)  # None: no cap / no limit


def explanation_steps(explanation: RecordExplanation) -> list[dict[str, Any]]:
    """The explanation as JSON-safe step dicts (amounts as strings), for the trial-calc output
    and for storing next to a claim's result.

    Every step names its liability; the first step of each liability (`base` or
    `not_covered`) also carries the Chinese name.
    """
    if explanation.outside is not None:
        return [{"step": "outside_plan", "reason": explanation.outside}]
    steps: list[dict[str, Any]] = []
    add = steps.append
    for line in explanation.lines:
        code = line.liability
        if not line.covered:
            add({"step": "not_covered", "liability": code, "liability_name": line.name, "reason": line.reason})
            continue
        base_step: dict[str, Any] = {
            "step": "base",
            "liability": code,
            "liability_name": line.name,
            "rule": line.rule,
            "terms": [{"sign": "-" if s < 0 else "+", "field": f, "amount": money(a)} for s, f, a in line.terms],
            "amount": money(line.base),  # type: ignore[arg-type]
        }
        if line.items:
            base_step["items"] = [
                {
                    "code": it.code,
                    "type": it.item_type,
                    "amount": money(it.amount),
                    "item_cap": _opt(it.item_cap),
                    "limit": _opt(it.limit),
                    "counted_before": money(it.counted_before),
                    "counted": money(it.counted),
                }
                for it in line.items
            ]
        add(base_step)
        add({
            "step": "deductible",
            "liability": code,
            "amount": money(line.deductible),  # type: ignore[arg-type]
            "cum_base_before": money(line.cum_base_before),  # type: ignore[arg-type]
            "cum_base_after": money(line.cum_base_after),  # type: ignore[arg-type]
        })
        for p in line.portions:
            add({"step": "band", "liability": code, "from": money(p.lower), "to": money(p.upper),
                 "rate": str(p.rate), "amount": exact(p.amount)})
        add({"step": "rounding", "liability": code, "raw": exact(line.raw), "amount": money(line.rounded)})  # type: ignore[arg-type]
        for cap in line.caps:
            add({
                "step": "cap",
                "liability": code,
                "cap": cap.code,
                "cap_name": cap.name,
                "limit": _opt(cap.limit),
                "paid_before": money(cap.paid_before),
                "left": _opt(cap.left),
                "applied": cap.applied,
            })
        add({
            "step": "payable",
            "liability": code,
            "amount": money(line.payable),  # type: ignore[arg-type]
            "cum_paid_before": money(line.cum_paid_before),  # type: ignore[arg-type]
            "cum_paid_after": money(line.cum_paid_after),  # type: ignore[arg-type]
            "remaining": _opt(line.remaining),
        })
    return steps

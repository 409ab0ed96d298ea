"""A program year's benefit rules as data (DOMAIN.md §4).

Everything that differs between contracts — which claim kinds a liability covers, its base
formula, who is eligible, deductibles, bands and rates, caps, shared caps, per-item caps — is a
value in these frozen dataclasses. The engine (`core.py`) contains no contract-specific branch,
so a fifth contract of the same families is configured, not programmed. Plans round-trip
through plain dicts (`plan_dict.py`) so the Django layer can store them in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .glossary import BOOL_ATTRIBUTES, CODE_ATTRIBUTES, SELECTOR_ATTRIBUTES


@dataclass(frozen=True)
class ParamRef:
    """Reference to a named plan parameter, e.g. Beijing's critical-illness deductible (30,404).

    The city changes that figure yearly; naming it lets an administrator edit one value that
    is both a deductible and a band boundary.
    """

    name: str


#: An amount in a plan: a literal (yuan) or a reference to a plan parameter.
Amount = Decimal | ParamRef


@dataclass(frozen=True)
class Selector:
    """Conditions on person and record attributes; `None` means "any value".

    Code attributes hold the set of accepted values; boolean attributes the required value.
    The enddate range is inclusive on both ends. A record whose attribute is missing (`None`)
    never satisfies a condition on that attribute.
    """

    category: frozenset[str] | None = None
    employment: frozenset[str] | None = None
    health: frozenset[str] | None = None
    continuous_no_claim_3y: bool | None = None
    student: bool | None = None
    claim_kind: frozenset[str] | None = None
    place: frozenset[str] | None = None
    hosp_lv: frozenset[str] | None = None
    designated: bool | None = None
    drug_list: frozenset[str] | None = None
    enddate_from: date | None = None
    enddate_to: date | None = None

    def conditions(self) -> list[tuple[str, object]]:
        """The constrained attributes, in glossary order (date range last)."""
        out: list[tuple[str, object]] = []
        for name in SELECTOR_ATTRIBUTES:
            value = getattr(self, name)
            if value is not None:
                out.append((name, value))
        return out

    def attributes(self) -> set[str]:
        """Names of the person/record attributes this selector tests."""
        return {name for name, _ in self.conditions()}

    def first_mismatch(self, values: dict[str, object], enddate: date) -> str | None:
        """Describe the first unmet condition, or None when every condition holds."""
        for name, wanted in self.conditions():
            actual = values.get(name)
            if name in BOOL_ATTRIBUTES:
                if actual is not wanted:
                    return f"{name} must be {str(wanted).lower()} (is {_show(actual)})"
            elif actual not in wanted:  # type: ignore[operator]
                return f"{name} must be one of {', '.join(sorted(wanted))} (is {_show(actual)})"  # type: ignore[arg-type]
        if self.enddate_from is not None and enddate < self.enddate_from:
            return f"enddate must be on or after {self.enddate_from.isoformat()}"
        if self.enddate_to is not None and enddate > self.enddate_to:
            return f"enddate must be on or before {self.enddate_to.isoformat()}"
        return None

    def describe(self) -> str:
        """Human-readable form for explanations, e.g. "category=ordinary, place=in_region"."""
        parts = []
        for name, value in self.conditions():
            if name in CODE_ATTRIBUTES:
                parts.append(f"{name}={'|'.join(sorted(value))}")  # type: ignore[arg-type]
            else:
                parts.append(f"{name}={str(value).lower()}")
        if self.enddate_from is not None:
            parts.append(f"enddate>={self.enddate_from.isoformat()}")
        if self.enddate_to is not None:
            parts.append(f"enddate<={self.enddate_to.isoformat()}")
        return ", ".join(parts) or "any"


def _show(value: object) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@dataclass(frozen=True)
class BaseTerm:
    """One signed settlement amount field of a base formula (sign is +1 or -1)."""

    sign: int
    field: str


@dataclass(frozen=True)
class Band:
    """A band of the cumulative base: from the previous upper bound (or the deductible) up to
    and including `upper` (None = open-ended), paid at `rate` (a fraction, 0..1)."""

    upper: Amount | None
    rate: Decimal


@dataclass(frozen=True)
class ScheduleRow:
    """Deductible and bands that apply when `when` matches; a liability's rows are tried in
    order and the first match wins, so specific rows (e.g. 3A hospitals) come first."""

    when: Selector
    deductible: Amount
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class CapRow:
    """Annual cap (yuan) for persons/records matching `when`; `amount=None` means no cap."""

    when: Selector
    amount: Amount | None


@dataclass(frozen=True)
class ItemCap:
    """Annual payment limit per item code of one item type (Beijing: drug 300k, implant 100k).

    An item's amount counts toward the base only up to round(amount / rate, 2) cumulatively
    per person, item code and year.
    """

    item_type: str
    amount: Amount


@dataclass(frozen=True)
class Liability:
    """One benefit liability (责任) of a plan.

    `claim_kinds` says which records it looks at; `eligibility` further restricts them (e.g.
    students only, designated pharmacies only, level-2+ hospitals); a record failing it is not
    covered and does not accumulate. `base` is summed and clamped at zero.
    """

    code: str
    name: str
    claim_kinds: tuple[str, ...]
    base: tuple[BaseTerm, ...]
    schedule: tuple[ScheduleRow, ...]
    caps: tuple[CapRow, ...]
    eligibility: Selector = field(default_factory=Selector)
    item_caps: tuple[ItemCap, ...] = ()


@dataclass(frozen=True)
class SharedCap:
    """An annual cap over the paid sums of several liabilities (or a slice of one, selected by
    `when`), e.g. Beijing special drugs: domestic 500k and overseas 500k within one 1M cap."""

    code: str
    name: str
    liabilities: tuple[str, ...]
    amount: Amount
    when: Selector = field(default_factory=Selector)


@dataclass(frozen=True)
class Parameter:
    """A named amount an administrator may change without touching the rules."""

    name: str
    value: Decimal
    description: str = ""


@dataclass(frozen=True)
class Plan:
    """The rules of one program year (contract). Records are accepted when their enddate lies
    within [period_start, period_end]; accumulation is per person within that year."""

    code: str
    name: str
    year: int
    period_start: date
    period_end: date
    liabilities: tuple[Liability, ...]
    shared_caps: tuple[SharedCap, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    #: The place codes this program uses (empty: any glossary place is accepted).
    places: tuple[str, ...] = ()

    def __getstate__(self) -> dict[str, object]:
        # The compiled form memoised by `compile_plan` holds closures; never pickle it.
        state = dict(self.__dict__)
        state.pop("_compiled", None)
        return state

    def liability(self, code: str) -> Liability:
        for liability in self.liabilities:
            if liability.code == code:
                return liability
        raise KeyError(code)

    def parameter_values(self) -> dict[str, Decimal]:
        return {p.name: p.value for p in self.parameters}

    def resolve(self, amount: Amount) -> Decimal:
        """The value of a literal amount or parameter reference (KeyError if unknown)."""
        if isinstance(amount, ParamRef):
            return self.parameter_values()[amount.name]
        return amount

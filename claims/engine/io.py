"""The trial-calculation (试算) JSON interface of DOMAIN.md §4.5: input parser, output writer.

Input errors raise one exception type, `TrialInputError`, whose message names the record
(setl_id and index) and the field, so a caseworker can fix the file. Amounts are parsed with
`Decimal` from their text (JSON numbers included: `parse_float=Decimal`), never via float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from programs.benefit_rules.glossary import (
    AMOUNT_FIELDS,
    CATEGORY,
    CENT,
    CLAIM_KINDS,
    DRUG_LISTS,
    EMPLOYMENT,
    HEALTH,
    HOSP_LEVELS,
    ITEM_TYPES,
    PLACES,
)
from programs.benefit_rules.plan import Plan

from .compiled import CompiledPlan, compile_plan
from .core import RecordResult
from .explain import explanation_steps, money
from .records import ItemLine, PersonAttributes, SettlementRecord


class TrialInputError(ValueError):
    """Bad trial-calc input; the message says which record and field, and what is wrong."""


@dataclass(frozen=True, slots=True)
class TrialInput:
    persons: dict[str, PersonAttributes]
    records: list[SettlementRecord]


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_AMOUNT = Decimal("999999999999.99")
# Dates of stays: anything outside is a typing error (and 0001/9999 overflow date arithmetic).
_MIN_DATE, _MAX_DATE = date(1900, 1, 1), date(2100, 12, 31)

# Settlement fields of DOMAIN.md §3 the engine does not read; accepted and ignored so that a
# platform record can be passed as it is.
_IGNORED_SETTLEMENT_FIELDS = frozenset({
    "mdtrt_id", "certno", "psn_name", "gend", "brdy", "insutype", "med_type", "begndate",
    "setl_time", "fixmedins_code", "fixmedins_name", "pool_prop_selfpay",
})
_IGNORED_PERSON_FIELDS = frozenset({"certno", "psn_name", "gend", "brdy"})
_PERSON_CODES: dict[str, tuple[str, ...]] = {"category": CATEGORY, "employment": EMPLOYMENT, "health": HEALTH}
_PERSON_BOOLS = ("continuous_no_claim_3y", "student")
_AMOUNTS = frozenset(AMOUNT_FIELDS)


def _quote(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return str(value)
    return type(value).__name__


class _Where:
    """Names a record in messages: `settlement S3 (index 2)`, or `settlement index 0` when it
    has no usable id. Built per record, so the label is only formatted on error."""

    __slots__ = ("kind", "index", "ident")

    def __init__(self, kind: str, index: int, ident: Any) -> None:
        self.kind = kind
        self.index = index
        self.ident = ident

    @property
    def label(self) -> str:
        if isinstance(self.ident, str) and self.ident:
            return f"{self.kind} {self.ident} (index {self.index})"
        return f"{self.kind} index {self.index}"

    def field(self, name: str, problem: str) -> TrialInputError:
        return TrialInputError(f"{self.label}: field {name}: {problem}")

    def missing(self, name: str, why: str = "") -> TrialInputError:
        return TrialInputError(f"{self.label}: missing field {name}{why}")


def where_item(index: int) -> _Where:
    """The place of an itemised line in messages (the trial page's item lines)."""
    return _Where("item", index, None)


def parse_amount(value: Any, where: _Where, name: str) -> Decimal:
    """An amount in yuan: a string or JSON number, non-negative, at most two decimals.
    `null` is refused, not read as 0: leaving the field out means 0."""
    if value is None:
        raise where.field(name, "null is not an amount (leave the field out for 0)")
    if type(value) is str:
        whole, dot, cents = value.partition(".")
        if whole.isdigit() and whole.isascii() and (not dot or (cents.isdigit() and cents.isascii())):
            if len(whole) > 12:
                raise where.field(name, f"amount {_quote(value)} too large")
            if len(cents) == 2:
                return Decimal(value)
            if len(cents) > 2:
                raise where.field(name, f"more than two decimals {_quote(value)}")
            return Decimal(value).quantize(CENT)
        if value.startswith("-") and value[1:2].isdigit():
            raise where.field(name, f"negative amount {_quote(value)}")
        raise where.field(name, f"malformed amount {_quote(value)}")
    if isinstance(value, Decimal):  # a JSON number, parsed from its text
        if value.is_finite() and abs(value) > _MAX_AMOUNT:  # before quantize: 1e30 has too many digits for it
            raise where.field(name, f"amount {_quote(value)} too large")
        try:
            amount = value.quantize(CENT)
        except InvalidOperation:
            raise where.field(name, f"malformed amount {_quote(value)}") from None
        if amount != value:
            raise where.field(name, f"more than two decimals {_quote(value)}")
        if amount < 0:
            raise where.field(name, f"negative amount {_quote(value)}")
        if amount > _MAX_AMOUNT:
            raise where.field(name, f"amount {_quote(value)} too large")
        return amount
    raise where.field(name, f"malformed amount {_quote(value)} (expected a string or number)")


def _code(value: Any, where: _Where, name: str, allowed: tuple[str, ...]) -> str:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = str(int(value))  # hosp_lv given as a number
    if not isinstance(value, str) or value not in allowed:
        raise where.field(name, f"unknown code {_quote(value)} (expected one of {', '.join(allowed)})")
    return value


def _bool(value: Any, where: _Where, name: str) -> bool:
    if not isinstance(value, bool):
        raise where.field(name, f"expected true or false, got {_quote(value)}")
    return value


def _date(value: Any, where: _Where, name: str) -> date:
    if isinstance(value, str) and _DATE_RE.match(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if not _MIN_DATE <= parsed <= _MAX_DATE:
                raise where.field(name, f"date {_quote(value)} outside {_MIN_DATE}..{_MAX_DATE}")
            return parsed
    raise where.field(name, f"malformed date {_quote(value)} (expected YYYY-MM-DD)")


def _text(value: Any, where: _Where, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise where.field(name, f"expected a non-empty string, got {_quote(value)}")
    return value


def _reject_constant(name: str) -> Any:
    raise TrialInputError(f"input: invalid JSON: {name} is not an amount")


def load_json(text: str | bytes) -> Any:
    """JSON with every number as Decimal (never float). Nesting deeper than the interpreter's
    recursion limit is refused with a message, not a RecursionError."""
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant)
    except RecursionError:
        raise TrialInputError("input: JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise TrialInputError(f"input: invalid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise TrialInputError(f"input: not UTF-8 text: {exc.reason}") from None


def parse_trial_input(text: str | bytes, plan: Plan | CompiledPlan) -> TrialInput:
    """Parse and check the trial-calc input for `plan` (places and attributes its rules need)."""
    return trial_input_from_data(load_json(text), plan)


def trial_input_from_data(data: Any, plan: Plan | CompiledPlan) -> TrialInput:
    """Like `parse_trial_input`, from already-decoded JSON (numbers as Decimal or int)."""
    cp = plan if isinstance(plan, CompiledPlan) else compile_plan(plan)
    persons, settlements = check_document(data)
    return TrialInput(persons, list(iter_settlements(settlements, persons, cp)))


def check_document(data: Any) -> tuple[dict[str, PersonAttributes], list[Any]]:
    """The persons (parsed) and the raw settlement list of a decoded input document."""
    if not isinstance(data, dict):
        raise TrialInputError("input: expected an object with the fields persons and settlements")
    for name in ("persons", "settlements"):
        if name not in data:
            raise TrialInputError(f"input: missing field {name}")
        if not isinstance(data[name], list):
            raise TrialInputError(f"input: field {name}: expected a list")
    unknown = sorted(set(data) - {"persons", "settlements", "program"})
    if unknown:
        raise TrialInputError(f"input: unknown field {unknown[0]}")
    return _parse_persons(data["persons"]), data["settlements"]


def iter_settlements(
    settlements: list[Any], persons: dict[str, PersonAttributes], plan: Plan | CompiledPlan
) -> Iterator[SettlementRecord]:
    """Parse settlements one by one (so a caller can evaluate in chunks and keep little in
    memory); raises TrialInputError at the first bad one."""
    cp = plan if isinstance(plan, CompiledPlan) else compile_plan(plan)
    places = cp.plan.places or PLACES
    required = {kind: tuple(sorted(cp.required_attributes(kind))) for kind in CLAIM_KINDS}
    code = cp.plan.code
    seen: dict[str, int] = {}
    for index, raw in enumerate(settlements):
        record = _parse_settlement(raw, index, persons, places, required, code)
        if record.setl_id is not None:
            first = seen.setdefault(record.setl_id, index)
            if first != index:
                raise _Where("settlement", index, record.setl_id).field(
                    "setl_id", f"duplicate {_quote(record.setl_id)} (first at index {first})"
                )
        yield record


def _parse_persons(items: list[Any]) -> dict[str, PersonAttributes]:
    persons: dict[str, PersonAttributes] = {}
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise TrialInputError(f"person index {index}: expected an object")
        where = _Where("person", index, raw.get("psn_no"))
        if "psn_no" not in raw:
            raise where.missing("psn_no")
        psn_no = _text(raw["psn_no"], where, "psn_no")
        if psn_no in persons:
            raise where.field("psn_no", f"duplicate {_quote(psn_no)}")
        kwargs: dict[str, Any] = {}
        for name, value in raw.items():
            if name in _PERSON_CODES:
                kwargs[name] = _code(value, where, name, _PERSON_CODES[name])
            elif name in _PERSON_BOOLS:
                kwargs[name] = _bool(value, where, name)
            elif name != "psn_no" and name not in _IGNORED_PERSON_FIELDS:
                raise TrialInputError(f"{where.label}: unknown field {name}")
        persons[psn_no] = PersonAttributes(**kwargs)
    return persons


def _parse_settlement(
    raw: Any,
    index: int,
    persons: dict[str, PersonAttributes],
    places: tuple[str, ...],
    required: dict[str, tuple[str, ...]],
    program: str,
) -> SettlementRecord:
    if not isinstance(raw, dict):
        raise TrialInputError(f"settlement index {index}: expected an object")
    setl_id = raw.get("setl_id")
    where = _Where("settlement", index, setl_id)
    if setl_id is not None:
        _text(setl_id, where, "setl_id")
    for name in ("psn_no", "enddate", "claim_kind"):
        if name not in raw:
            raise where.missing(name)
    psn_no = _text(raw["psn_no"], where, "psn_no")
    if psn_no not in persons:
        raise where.field("psn_no", f"{_quote(psn_no)} not in persons")
    kwargs: dict[str, Any] = {
        "setl_id": setl_id,
        "psn_no": psn_no,
        "enddate": _date(raw["enddate"], where, "enddate"),
        "claim_kind": _code(raw["claim_kind"], where, "claim_kind", CLAIM_KINDS),
    }
    for name, value in raw.items():
        if name in _AMOUNTS:
            kwargs[name] = parse_amount(value, where, name)
        elif name in ("setl_id", "psn_no", "enddate", "claim_kind"):
            continue
        elif name == "place":
            kwargs[name] = _code(value, where, name, places)
        elif name == "hosp_lv":
            kwargs[name] = _code(value, where, name, HOSP_LEVELS)
        elif name == "drug_list":
            kwargs[name] = _code(value, where, name, DRUG_LISTS)
        elif name == "designated":
            kwargs[name] = _bool(value, where, name)
        elif name == "items":
            kwargs[name] = _parse_items(value, where)
        elif name not in _IGNORED_SETTLEMENT_FIELDS:
            raise TrialInputError(f"{where.label}: unknown field {name}")
    for name in required[kwargs["claim_kind"]]:
        if kwargs.get(name) is None:
            raise where.missing(name, f" (required by {program} for claim_kind {kwargs['claim_kind']})")
    items = kwargs.get("items")
    if items:
        total = sum((item.amount for item in items), Decimal(0))
        ownpay = kwargs.get("fulamt_ownpay_amt", Decimal(0))
        if total > ownpay:
            raise where.field("items", f"item amounts total {total} exceed fulamt_ownpay_amt {ownpay}")
    return SettlementRecord(**kwargs)


def _parse_items(value: Any, where: _Where) -> tuple[ItemLine, ...]:
    if not isinstance(value, list):
        raise where.field("items", "expected a list")
    items = []
    for i, raw in enumerate(value):
        name = f"items[{i}]"
        if not isinstance(raw, dict):
            raise where.field(name, "expected an object with code, type and amount")
        for key in ("code", "type", "amount"):
            if key not in raw:
                raise where.missing(f"{name}.{key}")
        unknown = sorted(set(raw) - {"code", "type", "amount", "name"})
        if unknown:
            raise TrialInputError(f"{where.label}: unknown field {name}.{unknown[0]}")
        items.append(ItemLine(
            code=_text(raw["code"], where, f"{name}.code"),
            item_type=_code(raw["type"], where, f"{name}.type", ITEM_TYPES),
            amount=parse_amount(raw["amount"], where, f"{name}.amount"),
        ))
    return tuple(items)


def result_entry(result: RecordResult) -> dict[str, Any]:
    """One output result: amounts as strings with exactly two decimals; liabilities paying
    nothing are absent from `by_liability`; the explanation when there is one."""
    entry: dict[str, Any] = {
        "setl_id": result.setl_id,
        "payable": money(result.payable),
        "by_liability": {code: money(amount) for code, amount in result.by_liability.items()},
    }
    if result.explanation is not None:
        entry["explanation"] = explanation_steps(result.explanation)
    return entry


def trial_output(program: str, results: Iterable[RecordResult]) -> dict[str, Any]:
    """The output document `{"program": ..., "results": [...]}` as JSON-safe dicts."""
    return {"program": program, "results": [result_entry(r) for r in results]}


def serialise_trial_output(program: str, results: Iterable[RecordResult]) -> str:
    return json.dumps(trial_output(program, results), ensure_ascii=False)

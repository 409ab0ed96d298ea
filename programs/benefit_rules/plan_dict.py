"""Plans to and from plain dicts (JSON-safe), so they can live in a database JSON column.

Amounts and rates are written as strings and read with `Decimal(str)`; a float is refused
because a JSON column decoded with floats would already have lost cents. Unknown keys are
refused too: a misspelt "deductable" must not silently mean "no deductible".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .glossary import BOOL_ATTRIBUTES, CODE_ATTRIBUTES, SELECTOR_ATTRIBUTES
from .plan import (
    Amount,
    Band,
    BaseTerm,
    CapRow,
    ItemCap,
    Liability,
    Parameter,
    ParamRef,
    Plan,
    ScheduleRow,
    Selector,
    SharedCap,
)


class PlanFormatError(ValueError):
    """A plan dict is structurally malformed; the message starts with the path of the value."""


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TERM_RE = re.compile(r"\s*([+-]?)\s*([a-z_][a-z0-9_]*)\s*")


# --------------------------------------------------------------------------- reading


def plan_from_dict(data: Mapping[str, Any]) -> Plan:
    """Build a Plan from its dict form; raise PlanFormatError naming the offending path.

    Structural checks only; call `validate_plan` for the business rules (bands, rates, caps).
    """
    _keys(data, "plan", required={"code", "name", "year", "period_start", "period_end", "liabilities"},
          optional={"shared_caps", "parameters", "places"})
    return Plan(
        code=_str(data["code"], "code"),
        name=_str(data["name"], "name"),
        year=_int(data["year"], "year"),
        period_start=_date(data["period_start"], "period_start"),
        period_end=_date(data["period_end"], "period_end"),
        liabilities=tuple(
            _liability(item, f"liabilities[{i}]")
            for i, item in enumerate(_list(data["liabilities"], "liabilities"))
        ),
        shared_caps=tuple(
            _shared_cap(item, f"shared_caps[{i}]")
            for i, item in enumerate(_list(data.get("shared_caps", []), "shared_caps"))
        ),
        parameters=tuple(
            _parameter(item, f"parameters[{i}]")
            for i, item in enumerate(_list(data.get("parameters", []), "parameters"))
        ),
        places=tuple(_str(p, f"places[{i}]") for i, p in enumerate(_list(data.get("places", []), "places"))),
    )


def _liability(data: Any, path: str) -> Liability:
    _keys(data, path, required={"code", "name", "claim_kinds", "base", "schedule", "caps"},
          optional={"eligibility", "item_caps"})
    return Liability(
        code=_str(data["code"], f"{path}.code"),
        name=_str(data["name"], f"{path}.name"),
        claim_kinds=tuple(
            _str(k, f"{path}.claim_kinds[{i}]")
            for i, k in enumerate(_list(data["claim_kinds"], f"{path}.claim_kinds"))
        ),
        base=_base(data["base"], f"{path}.base"),
        schedule=tuple(
            _row(row, f"{path}.schedule[{i}]")
            for i, row in enumerate(_list(data["schedule"], f"{path}.schedule"))
        ),
        caps=tuple(
            _cap_row(row, f"{path}.caps[{i}]")
            for i, row in enumerate(_list(data["caps"], f"{path}.caps"))
        ),
        eligibility=_selector(data.get("eligibility", {}), f"{path}.eligibility"),
        item_caps=tuple(
            _item_cap(row, f"{path}.item_caps[{i}]")
            for i, row in enumerate(_list(data.get("item_caps", []), f"{path}.item_caps"))
        ),
    )


def _base(data: Any, path: str) -> tuple[BaseTerm, ...]:
    """Accept `[["+", "inscp_scp_amt"], ["-", "hifp_pay"]]` or "inscp_scp_amt - hifp_pay"."""
    if isinstance(data, str):
        terms = []
        pos = 0
        text = data.strip()
        while pos < len(text):
            match = _TERM_RE.match(text, pos)
            if match is None or (terms and not match.group(1)):
                raise PlanFormatError(f"{path}: malformed base formula {data!r}")
            terms.append(BaseTerm(-1 if match.group(1) == "-" else 1, match.group(2)))
            pos = match.end()
        if not terms:
            raise PlanFormatError(f"{path}: empty base formula")
        return tuple(terms)
    out = []
    for i, term in enumerate(_list(data, path)):
        if not (isinstance(term, list | tuple) and len(term) == 2 and term[0] in ("+", "-")):
            raise PlanFormatError(f'{path}[{i}]: expected ["+" or "-", field name], got {term!r}')
        out.append(BaseTerm(-1 if term[0] == "-" else 1, _str(term[1], f"{path}[{i}]")))
    return tuple(out)


def _row(data: Any, path: str) -> ScheduleRow:
    _keys(data, path, required={"deductible", "bands"}, optional={"when"})
    return ScheduleRow(
        when=_selector(data.get("when", {}), f"{path}.when"),
        deductible=_amount(data["deductible"], f"{path}.deductible"),
        bands=tuple(
            _band(b, f"{path}.bands[{i}]") for i, b in enumerate(_list(data["bands"], f"{path}.bands"))
        ),
    )


def _band(data: Any, path: str) -> Band:
    _keys(data, path, required={"upto", "rate"})
    upper = data["upto"]
    return Band(
        upper=None if upper is None else _amount(upper, f"{path}.upto"),
        rate=_decimal(data["rate"], f"{path}.rate"),
    )


def _cap_row(data: Any, path: str) -> CapRow:
    _keys(data, path, required={"amount"}, optional={"when"})
    amount = data["amount"]
    return CapRow(
        when=_selector(data.get("when", {}), f"{path}.when"),
        amount=None if amount is None else _amount(amount, f"{path}.amount"),
    )


def _item_cap(data: Any, path: str) -> ItemCap:
    _keys(data, path, required={"type", "amount"})
    return ItemCap(item_type=_str(data["type"], f"{path}.type"), amount=_amount(data["amount"], f"{path}.amount"))


def _shared_cap(data: Any, path: str) -> SharedCap:
    _keys(data, path, required={"code", "name", "liabilities", "amount"}, optional={"when"})
    return SharedCap(
        code=_str(data["code"], f"{path}.code"),
        name=_str(data["name"], f"{path}.name"),
        liabilities=tuple(
            _str(c, f"{path}.liabilities[{i}]")
            for i, c in enumerate(_list(data["liabilities"], f"{path}.liabilities"))
        ),
        amount=_amount(data["amount"], f"{path}.amount"),
        when=_selector(data.get("when", {}), f"{path}.when"),
    )


def _parameter(data: Any, path: str) -> Parameter:
    _keys(data, path, required={"name", "value"}, optional={"description"})
    return Parameter(
        name=_str(data["name"], f"{path}.name"),
        value=_decimal(data["value"], f"{path}.value"),
        description=_str(data.get("description", ""), f"{path}.description", allow_empty=True),
    )


def _selector(data: Any, path: str) -> Selector:
    _keys(data, path, optional=set(SELECTOR_ATTRIBUTES) | {"enddate_from", "enddate_to"})
    values: dict[str, Any] = {}
    for name, raw in data.items():
        if name in CODE_ATTRIBUTES:
            items = [raw] if isinstance(raw, str) else _list(raw, f"{path}.{name}")
            values[name] = frozenset(_str(v, f"{path}.{name}") for v in items)
        elif name in BOOL_ATTRIBUTES:
            if not isinstance(raw, bool):
                raise PlanFormatError(f"{path}.{name}: expected true or false, got {raw!r}")
            values[name] = raw
        else:
            values[name] = _date(raw, f"{path}.{name}")
    return Selector(**values)


def _keys(
    data: Any, path: str, *, required: frozenset[str] | set[str] = frozenset(),
    optional: frozenset[str] | set[str] = frozenset(),
) -> None:
    if not isinstance(data, Mapping):
        raise PlanFormatError(f"{path}: expected an object, got {type(data).__name__}")
    missing = sorted(required - data.keys())
    if missing:
        raise PlanFormatError(f"{path}: missing key {missing[0]!r}")
    unknown = sorted(set(data.keys()) - required - optional)
    if unknown:
        raise PlanFormatError(f"{path}: unknown key {unknown[0]!r}")


def _list(data: Any, path: str) -> list[Any]:
    if not isinstance(data, list | tuple):
        raise PlanFormatError(f"{path}: expected a list, got {type(data).__name__}")
    return list(data)


def _str(data: Any, path: str, *, allow_empty: bool = False) -> str:
    if not isinstance(data, str) or (not allow_empty and not data):
        raise PlanFormatError(f"{path}: expected a non-empty string, got {data!r}")
    return data


def _int(data: Any, path: str) -> int:
    if isinstance(data, bool) or not isinstance(data, int | Decimal) or int(data) != data:
        raise PlanFormatError(f"{path}: expected an integer, got {data!r}")
    return int(data)


def _date(data: Any, path: str) -> date:
    if isinstance(data, date):
        return data
    if not isinstance(data, str) or not _DATE_RE.match(data):
        raise PlanFormatError(f"{path}: expected a date YYYY-MM-DD, got {data!r}")
    try:
        return date.fromisoformat(data)
    except ValueError as exc:
        raise PlanFormatError(f"{path}: invalid date {data!r}") from exc


def _decimal(data: Any, path: str) -> Decimal:
    if isinstance(data, bool) or isinstance(data, float):
        raise PlanFormatError(f"{path}: expected a decimal string, got {data!r} (floats are refused)")
    if isinstance(data, Decimal | int):
        value = Decimal(data)
    elif isinstance(data, str):
        try:
            value = Decimal(data.strip())
        except InvalidOperation as exc:
            raise PlanFormatError(f"{path}: malformed decimal {data!r}") from exc
    else:
        raise PlanFormatError(f"{path}: expected a decimal string, got {data!r}")
    if not value.is_finite():
        raise PlanFormatError(f"{path}: malformed decimal {data!r}")
    return value


def _amount(data: Any, path: str) -> Amount:
    if isinstance(data, Mapping):
        _keys(data, path, required={"param"})
        return ParamRef(_str(data["param"], f"{path}.param"))
    return _decimal(data, path)


# --------------------------------------------------------------------------- writing


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The JSON-safe dict form of a plan; `plan_from_dict(plan_to_dict(p)) == p`."""
    return {
        "code": plan.code,
        "name": plan.name,
        "year": plan.year,
        "period_start": plan.period_start.isoformat(),
        "period_end": plan.period_end.isoformat(),
        "places": list(plan.places),
        "parameters": [
            {"name": p.name, "value": str(p.value), "description": p.description} for p in plan.parameters
        ],
        "liabilities": [_liability_to_dict(li) for li in plan.liabilities],
        "shared_caps": [
            {
                "code": s.code,
                "name": s.name,
                "liabilities": list(s.liabilities),
                "amount": _amount_out(s.amount),
                "when": selector_to_dict(s.when),
            }
            for s in plan.shared_caps
        ],
    }


def _liability_to_dict(li: Liability) -> dict[str, Any]:
    return {
        "code": li.code,
        "name": li.name,
        "claim_kinds": list(li.claim_kinds),
        "base": [["-" if t.sign < 0 else "+", t.field] for t in li.base],
        "eligibility": selector_to_dict(li.eligibility),
        "schedule": [
            {
                "when": selector_to_dict(row.when),
                "deductible": _amount_out(row.deductible),
                "bands": [
                    {"upto": None if b.upper is None else _amount_out(b.upper), "rate": str(b.rate)}
                    for b in row.bands
                ],
            }
            for row in li.schedule
        ],
        "caps": [
            {"when": selector_to_dict(c.when), "amount": None if c.amount is None else _amount_out(c.amount)}
            for c in li.caps
        ],
        "item_caps": [{"type": c.item_type, "amount": _amount_out(c.amount)} for c in li.item_caps],
    }


def selector_to_dict(selector: Selector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in selector.conditions():
        out[name] = sorted(value) if name in CODE_ATTRIBUTES else value  # type: ignore[arg-type]
    if selector.enddate_from is not None:
        out["enddate_from"] = selector.enddate_from.isoformat()
    if selector.enddate_to is not None:
        out["enddate_to"] = selector.enddate_to.isoformat()
    return out


def _amount_out(amount: Amount) -> Any:
    if isinstance(amount, ParamRef):
        return {"param": amount.name}
    return str(amount)

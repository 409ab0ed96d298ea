"""Business-rule checks on a plan, returned as messages an administrator can act on.

`plan_from_dict` only checks structure; these checks catch rules that would pay wrongly:
overlapping or gapped bands, rates outside 0..1, negative amounts, unknown fields or codes.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal

from .glossary import AMOUNT_FIELDS, CENT, CLAIM_KINDS, CODE_ATTRIBUTES, ITEM_TYPES, PLACES
from .plan import Amount, Liability, ParamRef, Plan, Selector


def validate_plan(plan: Plan) -> list[str]:
    """Every problem found in `plan` (empty list = valid)."""
    errors: list[str] = []
    params = {}
    for p in plan.parameters:
        if p.name in params:
            errors.append(f"parameter {p.name}: defined twice")
        params[p.name] = p.value
        if p.value < 0:
            errors.append(f"parameter {p.name}: negative value {p.value}")

    def amount(value: Amount, where: str) -> Decimal | None:
        """Resolve for checking; report unknown references and negatives."""
        if isinstance(value, ParamRef):
            if value.name not in params:
                errors.append(f"{where}: unknown parameter {value.name!r}")
                return None
            value = params[value.name]
        if value < 0:
            errors.append(f"{where}: negative amount {value}")
        elif value.adjusted() > 14:
            errors.append(f"{where}: amount {value} is too large")
        elif value != value.quantize(CENT, rounding=ROUND_DOWN):
            errors.append(f"{where}: amount {value} has more than two decimals")
        return value

    if not plan.code:
        errors.append("plan: empty code")
    if plan.period_start > plan.period_end:
        errors.append(f"plan {plan.code}: period_start {plan.period_start} is after period_end {plan.period_end}")
    if not (plan.period_start.year == plan.period_end.year == plan.year):
        errors.append(
            f"plan {plan.code}: the period {plan.period_start}..{plan.period_end} must lie within year {plan.year} "
            "(accumulation is per year of enddate)"
        )
    for place in plan.places:
        if place not in PLACES:
            errors.append(f"plan {plan.code}: unknown place {place!r}")
    if not plan.liabilities:
        errors.append(f"plan {plan.code}: no liabilities")

    codes: set[str] = set()
    for li in plan.liabilities:
        where = f"liability {li.code or '?'}"
        if not li.code:
            errors.append("liability with an empty code")
        if li.code in codes:
            errors.append(f"{where}: code used twice")
        codes.add(li.code)
        if not li.name:
            errors.append(f"{where}: empty name")
        _check_liability(li, where, plan, amount, errors)

    shared_codes: set[str] = set()
    for cap in plan.shared_caps:
        where = f"shared cap {cap.code or '?'}"
        if not cap.code or cap.code in shared_codes:
            errors.append(f"{where}: empty or duplicate code")
        shared_codes.add(cap.code)
        if not cap.liabilities:
            errors.append(f"{where}: covers no liability")
        for code in cap.liabilities:
            if code not in codes:
                errors.append(f"{where}: unknown liability {code!r}")
        amount(cap.amount, f"{where}: amount")
        _check_selector(cap.when, f"{where}: when", plan, errors)
    return errors


def _check_liability(
    li: Liability,
    where: str,
    plan: Plan,
    amount: Callable[[Amount, str], Decimal | None],
    errors: list[str],
) -> None:
    if not li.claim_kinds:
        errors.append(f"{where}: covers no claim kind")
    for kind in li.claim_kinds:
        if kind not in CLAIM_KINDS:
            errors.append(f"{where}: unknown claim kind {kind!r}")
    if not li.base:
        errors.append(f"{where}: empty base formula")
    for term in li.base:
        if term.field not in AMOUNT_FIELDS:
            errors.append(f"{where}: unknown field {term.field!r} in base formula")
        if term.sign not in (1, -1):
            errors.append(f"{where}: base term {term.field} has sign {term.sign} (must be +1 or -1)")
    _check_selector(li.eligibility, f"{where}: eligibility", plan, errors)

    if not li.schedule:
        errors.append(f"{where}: no schedule rows (nothing could ever be paid)")
    for r, row in enumerate(li.schedule, start=1):
        rw = f"{where}: schedule row {r}"
        _check_selector(row.when, f"{rw}: when", plan, errors)
        deductible = amount(row.deductible, f"{rw}: deductible")
        if not row.bands:
            errors.append(f"{rw}: no bands")
        previous = deductible
        for b, band in enumerate(row.bands, start=1):
            bw = f"{rw}: band {b}"
            if not (Decimal(0) <= band.rate <= Decimal(1)):
                errors.append(f"{bw}: rate {band.rate} outside 0..1")
            if band.upper is None:
                if b != len(row.bands):
                    errors.append(f"{bw}: open-ended band is not the last one (the bands after it are unreachable)")
                continue
            upper = amount(band.upper, f"{bw}: upper bound")
            if upper is not None and previous is not None and upper <= previous:
                below = "the deductible" if b == 1 else f"band {b - 1}'s upper bound"
                errors.append(f"{bw}: upper bound {upper} is not above {below} {previous} (overlapping bands)")
            previous = upper
        if row.bands and row.bands[-1].upper is not None:
            last = row.bands[-1].upper
            shown = last.name if isinstance(last, ParamRef) else last
            errors.append(
                f"{rw}: gap above {shown}: the last band must be open-ended (upto null); "
                "limit payments with caps"
            )
        if li.item_caps and (len(row.bands) != 1 or row.bands[0].rate <= 0):
            errors.append(f"{rw}: item caps need exactly one band with a positive rate (item limit = cap / rate)")

    if not li.caps:
        errors.append(f"{where}: no cap rows (use amount null for 'no cap')")
    for c, cap in enumerate(li.caps, start=1):
        _check_selector(cap.when, f"{where}: cap row {c}: when", plan, errors)
        if cap.amount is not None:
            amount(cap.amount, f"{where}: cap row {c}")

    seen: set[str] = set()
    for item in li.item_caps:
        if item.item_type not in ITEM_TYPES:
            errors.append(f"{where}: unknown item type {item.item_type!r}")
        if item.item_type in seen:
            errors.append(f"{where}: item type {item.item_type} capped twice")
        seen.add(item.item_type)
        value = amount(item.amount, f"{where}: item cap {item.item_type}")
        if value is not None and value == 0:
            errors.append(f"{where}: item cap {item.item_type} is zero")


def _check_selector(selector: Selector, where: str, plan: Plan, errors: list[str]) -> None:
    for name, value in selector.conditions():
        if name not in CODE_ATTRIBUTES:
            continue
        allowed = CODE_ATTRIBUTES[name]
        if not value:
            errors.append(f"{where}: {name} accepts no value (empty set)")
        for code in sorted(value):  # type: ignore[arg-type]
            if code not in allowed:
                errors.append(f"{where}: unknown {name} {code!r} (expected one of {', '.join(allowed)})")
            elif name == "place" and plan.places and code not in plan.places:
                errors.append(f"{where}: place {code!r} is not one of the plan's places")
    if selector.enddate_from and selector.enddate_to and selector.enddate_from > selector.enddate_to:
        errors.append(f"{where}: enddate_from {selector.enddate_from} is after enddate_to {selector.enddate_to}")

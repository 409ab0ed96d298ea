"""Money helpers, once for every app: the money column's size (`MONEY`), `CENT`, parsing
(`to_decimal`, `to_amount`, `to_rate`), the one rounding (`to_money`) and display, and the
per-capita × headcount premium (`headcount_premium`) that programs shows on its headcount
snapshots and finance books.

Amounts are `Decimal` with two decimals (yuan and fen). Inputs are validated here so that a
float never sneaks in (it would carry binary noise into a premium or a clearing) and so that
an amount with more than two decimals is refused instead of being silently truncated.

Pure (no Django, no app code; a contract in pyproject.toml keeps it so): finance.calculations
and the benefit rules (programs.benefit_rules, read by the pure engine) import it and must stay
free of Django (tests/finance/test_calculations.py, tests/core/test_layers.py). Importing it loads
nothing else: `insurance_admin/__init__.py` is empty (the Celery app is loaded by the core app's
`ready()`), and so is `insurance_admin/core/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

#: The field kwargs of every money column: `models.DecimalField(..., **MONEY)`, up to
#: 999,999,999,999.99 yuan (insurance_admin.core.forms.MAX_AMOUNT).
MONEY = {"max_digits": 14, "decimal_places": 2}

CENT = Decimal("0.01")
ZERO = Decimal("0")
#: A zero amount as stored and shown (two decimals).
NIL = Decimal("0.00")
ONE = Decimal("1")
HUNDRED = Decimal("100")

# Wide enough that every product and sum of realistic amounts is exact; rounding happens
# only in `to_money` (and, for display, in `percent`).
CONTEXT = Context(prec=40)


def exact():
    """A local decimal context in which products and sums of money are exact."""
    return localcontext(CONTEXT)


def to_decimal(value: Decimal | int | str, name: str) -> Decimal:
    """Accept Decimal, int or a numeric string; refuse float and bool (money is never float)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", ""))
        except ArithmeticError:
            raise ValueError(f"{name} is not a number: {value!r}") from None
    else:
        raise TypeError(f"{name} must be a Decimal, int or str, not {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return result


def to_amount(value: Decimal | int | str, name: str, *, allow_negative: bool = False) -> Decimal:
    """A money input: at most two decimals (never truncated silently), normally not negative."""
    result = to_decimal(value, name)
    if result != result.quantize(CENT, ROUND_HALF_UP):
        raise ValueError(f"{name} has more than two decimals: {value!r}")
    if not allow_negative and result < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return result.quantize(CENT)


def to_rate(value: Decimal | int | str, name: str, *, allow_zero: bool = True) -> Decimal:
    """A fraction between 0 and 1 (inclusive), e.g. Decimal("0.03") for 3 %."""
    result = to_decimal(value, name)
    if result < 0 or result > 1 or (result == 0 and not allow_zero):
        bound = "(0, 1]" if not allow_zero else "[0, 1]"
        raise ValueError(f"{name} must be a fraction in {bound}, got {value!r}")
    return result


def to_money(value: Decimal) -> Decimal:
    """Round a computed amount once, half-up, to 0.01 (the only rounding of money)."""
    return value.quantize(CENT, ROUND_HALF_UP)


def share_of(amount: Decimal, rate: Decimal) -> Decimal:
    """`rate` × `amount`, computed exactly, then rounded once to 0.01 half-up."""
    with exact():
        return to_money(amount * rate)


def fmt_money(amount: Decimal) -> str:
    """1234567.8 -> '1,234,567.80' (statement lines, not stored values)."""
    return format(amount.quantize(CENT, ROUND_HALF_UP), ",.2f")


def fmt_share(rate: Decimal) -> str:
    """Decimal('0.03') -> '3%', Decimal('0.125') -> '12.5%': the contractual figure as written."""
    with exact():
        value = (rate * HUNDRED).normalize()
    return f"{format(value, 'f')}%"


def percent(rate: Decimal, places: int = 2) -> str:
    """A computed rate for display only, e.g. 0.100049 -> '10.00%' (half-up)."""
    with exact():
        value = (rate * HUNDRED).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return f"{value}%"


# --- per-capita premiums ------------------------------------------------------------------------


def headcount_of(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def per_capita_rates(per_capita_by_category: Mapping[str, Decimal | int | str]) -> dict[str, Decimal]:
    return {
        category: to_amount(value, f"per-capita premium of {category!r}")
        for category, value in per_capita_by_category.items()
    }


def check_priced(counts: Mapping[str, int], rates: Mapping[str, Decimal], name: str) -> None:
    unknown = sorted(set(counts) - set(rates))
    if unknown:
        raise ValueError(
            f"{name} has categories without a per-capita premium: {', '.join(unknown)}"
        )


def headcount_premium(
    per_capita_by_category: Mapping[str, Decimal | int | str],
    counts: Mapping[str, int],
) -> Decimal:
    """Σ per-capita premium × headcount over the categories, rounded once.

    Tongliao: {"resident": 114.23} × 2,217,285 = 253,280,465.55. Zhenping: active 460, retired 0
    (seed 004 art. 7: retirees "pay no more, but enjoy the benefits normally": covered, but
    they add nothing). A category missing from
    `counts` counts 0; a count without a per-capita premium is an error, not a free enrollee.
    """
    rates = per_capita_rates(per_capita_by_category)
    check_priced(counts, rates, "counts")
    with exact():
        total = sum((rates[c] * headcount_of(n, f"count of {c!r}") for c, n in counts.items()), ZERO)
    return to_money(total)

"""Properties of the finance calculations over random inputs (hypothesis).

- a premium schedule's installments always sum exactly to the total, none is negative, and the
  shares sum to 1; a withholding never makes a transfer negative;
- clearing: kept + returned == surplus when the balance is not negative; authority + insurer
  == overspend when it is; the insurer keeps at most 3 % of the fund (to the fen);
- fund usage: the rolling surplus moves by exactly carried - drawn and never goes negative;
- supplementary premium == final premium - provisional premium.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from decimal import Decimal as D

from hypothesis import example, given, settings
from hypothesis import strategies as st

from finance.calculations import (
    REMAINDER,
    FixedDate,
    InstallmentRule,
    cycle_clearing,
    deposit_withholding,
    fund_usage,
    headcount_premium,
    premium_schedule,
    supplementary_premium,
)

CENT = D("0.01")
SETTINGS = settings(max_examples=300, deadline=None)


def cents(min_yuan: int = 0, max_yuan: int = 10**12) -> st.SearchStrategy[D]:
    return st.integers(min_yuan * 100, max_yuan * 100).map(lambda c: D(c) / 100)


@st.composite
def schedules(draw):
    """Rules with shares in basis points (0.01 %), with or without a remainder installment
    (anywhere in the sequence)."""
    n = draw(st.integers(1, 6))
    with_remainder = draw(st.booleans())
    fixed_count = n - 1 if with_remainder else n
    remainder_bp = draw(st.integers(1, 10_000 - fixed_count)) if with_remainder else 0
    fixed_bp = 10_000 - remainder_bp
    rules = []
    if fixed_count:
        cuts = (
            []
            if fixed_count == 1
            else draw(
                st.lists(
                    st.integers(1, fixed_bp - 1),
                    min_size=fixed_count - 1,
                    max_size=fixed_count - 1,
                    unique=True,
                )
            )
        )
        bounds = [0, *sorted(cuts), fixed_bp]
        shares = [D(b - a) / 10_000 for a, b in zip(bounds, bounds[1:], strict=False)]
        rules = [InstallmentRule(share, FixedDate(1 + i, 1)) for i, share in enumerate(shares)]
    if with_remainder:
        position = draw(st.integers(0, len(rules)))
        rules.insert(position, InstallmentRule(REMAINDER, FixedDate(12, 31)))
    return rules


def absorbing_index(rules) -> int:
    """The installment that takes the rounding: the remainder, else the last one."""
    for i, rule in enumerate(rules):
        if rule.share == REMAINDER:
            return i
    return len(rules) - 1


@SETTINGS
@given(total=cents(), rules=schedules())
def test_installments_always_sum_to_the_total(total, rules):
    absorbing = absorbing_index(rules)
    try:
        schedule = premium_schedule(total, rules, None, 2025)
    except ValueError:
        # Only a total of a few fen can be eaten up by rounding the other shares up
        # (each by at most half a fen).
        fixed_sum = sum(r.share for r in rules if r.share != REMAINDER)
        absorbing_share = (
            1 - fixed_sum if rules[absorbing].share == REMAINDER else rules[absorbing].share
        )
        assert total * absorbing_share < D("0.005") * (len(rules) - 1)
        return
    assert sum(i.amount for i in schedule) == total
    assert all(i.amount >= 0 for i in schedule)
    assert sum(i.share for i in schedule) == 1
    assert [i.seq for i in schedule] == list(range(1, len(rules) + 1))
    for i, (installment, rule) in enumerate(zip(schedule, rules, strict=True)):
        if i != absorbing:
            assert installment.amount == (total * rule.share).quantize(CENT, ROUND_HALF_UP)


@SETTINGS
@given(
    total=cents(1_000),
    rules=schedules(),
    withheld=st.integers(0, 100).map(lambda p: D(p) / 100),
)
def test_withholding_never_makes_a_transfer_negative(total, rules, withheld):
    schedule = premium_schedule(total, rules, None, 2025)
    withholding = deposit_withholding(schedule, withheld)
    assert withholding.amount == (total * withheld).quantize(CENT, ROUND_HALF_UP)
    assert sum(d.amount for d in withholding.deductions) == withholding.amount
    cash = [withholding.net_amount(i.seq, i.amount) for i in schedule]
    assert all(c >= 0 for c in cash)
    assert sum(cash) + withholding.amount == total


@st.composite
def fund_and_spend(draw):
    fund = draw(cents(0, 10**11).filter(lambda f: f > 0))
    kind = draw(st.sampled_from(["any", "near_limit", "loss"]))
    if kind == "near_limit":
        # Around the 3 % boundary, where rounding and "3 % included" matter.
        surplus = (fund * D("0.03")).quantize(CENT) + D(draw(st.integers(-3, 3))) / 100
        spend = max(fund - surplus, D("0.00"))
    elif kind == "loss":
        spend = fund + draw(cents(0, 10**10))
    else:
        spend = draw(cents(0, 10**11))
    return fund, spend


@SETTINGS
@given(figures=fund_and_spend())
def test_clearing_splits_surplus_and_overspend_exactly(figures):
    fund, spend = figures
    result = cycle_clearing(fund, spend)
    assert result.balance == fund - spend
    if result.balance >= 0:
        assert result.surplus == result.balance
        assert result.insurer_kept + result.returned_to_fund == result.surplus
        assert result.overspend == result.authority_share == result.insurer_share == 0
        # Within 3 % (included) the whole surplus stays with the insurer; above it the insurer
        # keeps the cap rounded to the fen (for a fund of a few jiao that can be all of it).
        if result.surplus <= fund * D("0.03"):
            assert result.insurer_kept == result.surplus
        else:
            assert result.insurer_kept == result.retention_cap
    else:
        assert result.overspend == -result.balance
        assert result.authority_share + result.insurer_share == result.overspend
        assert result.authority_share == (result.overspend * D("0.4")).quantize(CENT, ROUND_HALF_UP)
        assert result.surplus == result.insurer_kept == result.returned_to_fund == 0
    assert 0 <= result.insurer_kept <= (fund * D("0.03")).quantize(CENT, ROUND_HALF_UP)
    assert result.returned_to_fund >= 0


@SETTINGS
@given(
    income=cents(1, 10**10),
    claims=cents(0, 10**10),
    opening=cents(0, 10**9),
    last_year=cents(0, 10**10),
)
# 90 % of 2.16 is 1.944: claims of 1.94 fall short by 0.004, which is no money (0.00 carried)
@example(income=D("2.16"), claims=D("1.94"), opening=D("0"), last_year=D("0"))
def test_rolling_surplus_moves_by_carried_minus_drawn(income, claims, opening, last_year):
    result = fund_usage(income, claims, opening, last_year, operating_cost_rate=D("0"))
    assert (
        result.new_rolling_surplus
        == opening + result.shortfall_carried - result.drawn_from_rolling_surplus
    )
    assert result.new_rolling_surplus >= 0
    assert result.drawn_from_rolling_surplus + result.uncovered_excess == result.excess_over_usable
    assert not (result.shortfall_carried and result.excess_over_usable)
    # a shortfall is carried when the gap to the commitment is at least half a cent (money is
    # rounded half-up to 0.01 where it is booked)
    gap = (result.usable_income * D("0.9") - claims).quantize(CENT, ROUND_HALF_UP)
    assert (result.shortfall_carried > 0) == (gap > 0)
    assert result.shortfall_carried == max(gap, D("0.00"))
    assert result.financing_adjustment_warning == (
        result.new_rolling_surplus < last_year * D("0.3")
    )


@SETTINGS
@given(
    per_capita=st.dictionaries(
        st.sampled_from(["active", "retired", "resident"]), cents(0, 1_000), min_size=1
    ),
    data=st.data(),
)
def test_supplementary_premium_is_final_minus_provisional(per_capita, data):
    counts = st.fixed_dictionaries({c: st.integers(0, 3_000_000) for c in per_capita})
    provisional, final = data.draw(counts), data.draw(counts)
    assert supplementary_premium(per_capita, provisional, final) == (
        headcount_premium(per_capita, final) - headcount_premium(per_capita, provisional)
    )

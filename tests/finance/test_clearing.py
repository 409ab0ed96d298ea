"""Tongliao three-year cycle clearing (seed 001 art. 12): surplus kept up to 3 % of the fund
(3 % included), the rest returned; overspend shared authority : insurer = 4 : 6."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from finance.calculations import ClearingBook, cycle_clearing, pooled_clearing

FUND = D("100000000.00")


def test_surplus_of_10_percent_insurer_keeps_3_percent_and_returns_the_rest():
    result = cycle_clearing(FUND, D("90000000.00"))
    assert result.balance == D("10000000.00")
    assert result.surplus == D("10000000.00")
    assert result.rate == D("0.1")
    assert result.rate_display == "10.00%"
    assert result.retention_cap == D("3000000.00")
    assert result.insurer_kept == D("3000000.00")
    assert result.returned_to_fund == D("7000000.00")
    assert (result.overspend, result.authority_share, result.insurer_share) == (D("0.00"),) * 3
    assert result.formula_lines == (
        "Balance = fund - medical spend = 100,000,000.00 - 90,000,000.00 = 10,000,000.00",
        "Balance rate = balance / fund = 10,000,000.00 / 100,000,000.00 = 10.00%",
        "Retention cap = 3% x fund = 3% x 100,000,000.00 = 3,000,000.00",
        "Surplus rate 10.00% > 3%: insurer keeps the cap 3,000,000.00",
        "Returned to the basic fund = surplus - kept = 10,000,000.00 - 3,000,000.00 = 7,000,000.00",
    )


def test_surplus_of_exactly_3_percent_is_kept_entirely():
    result = cycle_clearing(FUND, D("97000000.00"))
    assert result.rate == D("0.03")
    assert result.insurer_kept == D("3000000.00")
    assert result.returned_to_fund == D("0.00")
    assert "limit included" in result.formula_lines[-1]


def test_surplus_of_3_01_percent_returns_the_0_01_percent_above_the_limit():
    result = cycle_clearing(FUND, D("96990000.00"))
    assert result.rate_display == "3.01%"
    assert result.insurer_kept == D("3000000.00")
    assert result.returned_to_fund == D("10000.00")


def test_one_fen_above_the_limit_is_returned_although_the_rate_shows_3_00_percent():
    result = cycle_clearing(FUND, D("96999999.99"))
    assert result.rate_display == "3.00%"  # display only; the decision is exact
    assert result.insurer_kept == D("3000000.00")
    assert result.returned_to_fund == D("0.01")


def test_overspend_is_shared_4_to_6():
    result = cycle_clearing(FUND, D("110000000.00"))
    assert result.balance == D("-10000000.00")
    assert result.rate_display == "-10.00%"
    assert result.overspend == D("10000000.00")
    assert result.authority_share == D("4000000.00")
    assert result.insurer_share == D("6000000.00")
    assert (result.surplus, result.insurer_kept, result.returned_to_fund) == (D("0.00"),) * 3
    assert result.formula_lines[-2:] == (
        "Authority share = 40% x 10,000,000.00 = 4,000,000.00",
        "Insurer share (60%) = overspend - authority share = 10,000,000.00 - 4,000,000.00 = 6,000,000.00",
    )


def test_odd_overspend_rounds_the_authority_share_and_the_insurer_takes_the_rest():
    result = cycle_clearing(FUND, FUND + D("1234567.89"))
    assert result.authority_share == D("493827.16")  # 493,827.156
    assert result.insurer_share == D("740740.73")
    assert cycle_clearing(FUND, FUND + D("0.01")).insurer_share == D("0.01")


def test_break_even_moves_nothing():
    result = cycle_clearing(FUND, FUND)
    assert result.rate == 0
    assert (
        result.insurer_kept,
        result.returned_to_fund,
        result.authority_share,
        result.insurer_share,
    ) == (D("0.00"),) * 4


def test_retention_cap_of_half_a_fen_rounds_half_up():
    fund = D("100000000.50")  # 3 % = 3,000,000.015
    within = cycle_clearing(fund, fund - D("3000000.01"))
    assert (within.insurer_kept, within.returned_to_fund) == (D("3000000.01"), D("0.00"))
    above = cycle_clearing(fund, fund - D("3000000.03"))
    assert above.retention_cap == D("3000000.02")
    assert (above.insurer_kept, above.returned_to_fund) == (D("3000000.02"), D("0.01"))


@pytest.mark.parametrize("spend", ["0.00", "5000.00"])
def test_zero_fund_is_a_clear_error(spend):
    with pytest.raises(ValueError, match="fund of 0"):
        cycle_clearing(D("0.00"), D(spend))


def test_bad_inputs_are_refused():
    with pytest.raises(TypeError):
        cycle_clearing(100_000_000.0, D("1.00"))
    with pytest.raises(ValueError):
        cycle_clearing(FUND, D("-1.00"))
    with pytest.raises(ValueError):
        cycle_clearing(FUND, D("1.001"))


def test_counties_are_pooled_before_the_rate_is_computed():
    books = [
        ClearingBook("Horqin District", D("60000000.00"), D("50000000.00")),
        ClearingBook("Kailu County", D("40000000.00"), D("44000000.00")),
    ]
    result = pooled_clearing(books)
    assert (result.fund, result.medical_spend) == (D("100000000.00"), D("94000000.00"))
    assert result.insurer_kept == D("3000000.00")
    assert result.returned_to_fund == D("3000000.00")
    assert result.formula_lines[:3] == (
        "Horqin District: fund 60,000,000.00, medical spend 50,000,000.00",
        "Kailu County: fund 40,000,000.00, medical spend 44,000,000.00",
        "Pooled: fund 100,000,000.00, medical spend 94,000,000.00",
    )

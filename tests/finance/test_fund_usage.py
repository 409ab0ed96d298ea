"""Taikang yearly fund usage (seed 002 arts. 8, 29, 30): 5 % operating cost borne by the
insurer; at least 90 % of the remaining income used, the shortfall rolled over; above 100 %
paid from the rolling surplus; a rolling surplus below 30 % of last year's premium warns.

Hand figures: income 10,000,000.00 -> operating cost 500,000.00 -> usable 9,500,000.00 ->
commitment 90 % = 8,550,000.00."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from finance.calculations import fund_usage

INCOME = D("10000000.00")
LAST_YEAR = D("5000000.00")  # warning level 30 % = 1,500,000.00


def test_usage_below_90_percent_rolls_the_shortfall_into_the_rolling_surplus():
    result = fund_usage(INCOME, D("8000000.00"), D("1000000.00"), LAST_YEAR)
    assert result.operating_cost == D("500000.00")
    assert result.usable_income == D("9500000.00")
    assert result.usage_rate_display == "84.21%"
    assert result.commitment_amount == D("8550000.00")
    assert result.shortfall_carried == D("550000.00")
    assert result.drawn_from_rolling_surplus == D("0.00")
    assert result.new_rolling_surplus == D("1550000.00")
    assert result.warning_amount == D("1500000.00")
    assert result.financing_adjustment_warning is False
    assert (
        "Usage below 90%: shortfall = commitment - claims paid = 550,000.00"
        in result.formula_lines[4]
    )


def test_usage_of_exactly_90_percent_carries_nothing():
    result = fund_usage(INCOME, D("8550000.00"), D("2000000.00"), LAST_YEAR)
    assert result.usage_rate == D("0.9")
    assert result.shortfall_carried == D("0.00")
    assert result.new_rolling_surplus == D("2000000.00")


def test_one_fen_below_90_percent_carries_one_fen():
    result = fund_usage(INCOME, D("8549999.99"), D("2000000.00"), LAST_YEAR)
    assert result.usage_rate_display == "90.00%"  # display only
    assert result.shortfall_carried == D("0.01")
    assert result.new_rolling_surplus == D("2000000.01")


def test_usage_between_90_and_100_percent_moves_nothing():
    result = fund_usage(INCOME, D("9000000.00"), D("2000000.00"), LAST_YEAR)
    assert result.usage_rate_display == "94.74%"
    assert (
        result.shortfall_carried,
        result.excess_over_usable,
        result.drawn_from_rolling_surplus,
    ) == (D("0.00"),) * 3
    assert result.new_rolling_surplus == D("2000000.00")
    assert "nothing carried or drawn" in result.formula_lines[4]


def test_usage_above_100_percent_is_paid_from_the_rolling_surplus():
    result = fund_usage(INCOME, D("10000000.00"), D("2000000.00"), LAST_YEAR)
    assert result.usage_rate_display == "105.26%"
    assert result.excess_over_usable == D("500000.00")
    assert result.drawn_from_rolling_surplus == D("500000.00")
    assert result.uncovered_excess == D("0.00")
    assert result.new_rolling_surplus == D("1500000.00")
    # exactly 30 % of last year's premium is not "below 30 %": no warning
    assert result.financing_adjustment_warning is False


def test_rolling_surplus_one_fen_below_30_percent_warns():
    result = fund_usage(INCOME, D("10000000.00"), D("1999999.99"), LAST_YEAR)
    assert result.new_rolling_surplus == D("1499999.99")
    assert result.financing_adjustment_warning is True
    assert "financing adjustment needed" in result.formula_lines[-1]


def test_excess_beyond_the_rolling_surplus_is_reported_uncovered():
    result = fund_usage(INCOME, D("10000000.00"), D("200000.00"), LAST_YEAR)
    assert result.drawn_from_rolling_surplus == D("200000.00")
    assert result.uncovered_excess == D("300000.00")
    assert result.new_rolling_surplus == D("0.00")
    assert result.financing_adjustment_warning is True


def test_operating_cost_can_be_based_on_a_financing_figure_other_than_income():
    result = fund_usage(INCOME, D("0.00"), D("0.00"), LAST_YEAR, total_financing=D("10200000.00"))
    assert result.operating_cost == D("510000.00")
    assert result.usable_income == D("9490000.00")
    assert result.shortfall_carried == D("8541000.00")


def test_commitment_with_half_a_fen_rounds_half_up():
    # usable 1,000.05 -> 90 % = 900.045; shortfall against 0 claims = 900.05
    result = fund_usage(D("1000.05"), D("0.00"), D("0.00"), D("0.00"), operating_cost_rate=D("0"))
    assert result.shortfall_carried == D("900.05")


def test_no_usable_income_is_an_error():
    with pytest.raises(ValueError, match="usable income"):
        fund_usage(D("0.00"), D("0.00"), D("0.00"), LAST_YEAR)

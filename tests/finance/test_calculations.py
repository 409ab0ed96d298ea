"""Premium totals, installment schedules, deposit withholding, supplementary premium,
revolving fund and penalties, with the seed contracts' figures (DOMAIN.md §5)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from finance.calculations import (
    REMAINDER,
    CalendarDaysAfter,
    FixedDate,
    InstallmentRule,
    LatestOf,
    WithinMonth,
    WorkingDaysAfter,
    confidentiality_penalty,
    deposit_withholding,
    early_termination_penalty,
    headcount_premium,
    premium_schedule,
    resolve_due_date,
    revolving_opening,
    revolving_topup,
    supplementary_premium,
)
from finance.calculations.seed import (
    FISCAL_FUNDS_ARRIVED,
    INVOICE_RECEIVED,
    PER_CAPITA,
    PREMIUM_PLANS,
    ZHENPING_PREPAYMENT_DUE,
)
from tests.finance.calendars import chinese_2025, weekdays_only

date = dt.date


# --- premium totals -------------------------------------------------------------------------


def test_tongliao_provisional_premium_is_per_capita_times_provisional_headcount():
    assert headcount_premium(PER_CAPITA["tongliao-2025"], {"resident": 2_217_285}) == D(
        "253280465.55"
    )


def test_beijing_premium_is_195_times_20063():
    assert headcount_premium(PER_CAPITA["beijing-chaoyang-2026"], {"insured": 20_063}) == D(
        "3912285.00"
    )


def test_zhenping_retirees_are_covered_but_add_no_premium():
    total = headcount_premium(PER_CAPITA["zhenping-2026"], {"active": 3_000, "retired": 500})
    assert total == D("1380000.00")


def test_headcount_without_a_per_capita_premium_is_refused():
    with pytest.raises(ValueError, match="students"):
        headcount_premium(PER_CAPITA["zhenping-2026"], {"active": 10, "students": 5})


def test_negative_or_fractional_headcounts_are_refused():
    with pytest.raises(ValueError):
        headcount_premium(PER_CAPITA["zhenping-2026"], {"active": -1})
    with pytest.raises(ValueError):
        headcount_premium(PER_CAPITA["zhenping-2026"], {"active": 1.5})


def test_float_money_is_refused():
    with pytest.raises(TypeError):
        headcount_premium({"resident": 114.23}, {"resident": 1})
    with pytest.raises(TypeError):
        premium_schedule(1000.0, PREMIUM_PLANS["taikang-2025"].rules, None, 2025)


# --- schedules: Tongliao ----------------------------------------------------------------------


def test_tongliao_schedule_80_percent_30_days_after_signing_then_20_percent_by_december_20():
    schedule = premium_schedule(
        D("253280465.55"),
        PREMIUM_PLANS["tongliao-2025"].rules,
        date(2025, 5, 10),
        2025,
        weekdays_only,
    )
    assert [(i.seq, i.share, i.amount, i.due_date) for i in schedule] == [
        (1, D("0.8"), D("202624372.44"), date(2025, 6, 9)),
        (2, D("0.2"), D("50656093.11"), date(2025, 12, 20)),
    ]
    assert sum(i.amount for i in schedule) == D("253280465.55")
    assert "within 30 days after signing" in schedule[0].description
    assert "remainder (20%)" in schedule[1].description
    assert "assessment" in schedule[1].description


def test_tongliao_first_installment_is_unknown_until_the_contract_is_signed():
    schedule = premium_schedule(D("253280465.55"), PREMIUM_PLANS["tongliao-2025"].rules, None, 2025)
    assert schedule[0].due_date is None
    assert "due date set when the event is recorded" in schedule[0].description
    assert schedule[1].due_date == date(2025, 12, 20)


# --- schedules: Zhenping, with the deposit ----------------------------------------------------


def test_zhenping_schedule_and_withheld_deposit_for_3000_active_and_500_retired():
    plan = PREMIUM_PLANS["zhenping-2026"]
    total = headcount_premium(PER_CAPITA["zhenping-2026"], {"active": 3_000, "retired": 500})
    schedule = premium_schedule(total, plan.rules, date(2026, 2, 20), 2026, weekdays_only)
    assert [(i.share, i.amount, i.due_date) for i in schedule] == [
        (D("0.4"), D("552000.00"), date(2026, 3, 31)),
        (D("0.3"), D("414000.00"), date(2026, 6, 30)),
        (D("0.3"), D("414000.00"), date(2026, 12, 31)),
    ]

    withholding = deposit_withholding(schedule, plan.withheld_share)
    assert withholding.share == D("0.10")
    assert withholding.amount == D("138000.00")
    # The deposit comes out of the last transfer: 12-31 brings 20 % of the total, not 30 %.
    assert [(d.seq, d.amount, d.net_amount) for d in withholding.deductions] == [
        (3, D("138000.00"), D("276000.00"))
    ]
    cash = [withholding.net_amount(i.seq, i.amount) for i in schedule]
    assert cash == [D("552000.00"), D("414000.00"), D("276000.00")]
    assert sum(cash) + withholding.amount == total
    assert "138,000.00" in withholding.description


def test_withholding_larger_than_the_last_installment_spills_into_the_one_before():
    schedule = premium_schedule(
        D("1000.00"),
        [
            InstallmentRule(D("0.95"), FixedDate(3, 31)),
            InstallmentRule(REMAINDER, FixedDate(12, 31)),
        ],
        None,
        2026,
    )
    withholding = deposit_withholding(schedule, D("0.10"))
    assert [(d.seq, d.amount, d.net_amount) for d in withholding.deductions] == [
        (1, D("50.00"), D("900.00")),
        (2, D("50.00"), D("0.00")),
    ]


def test_zhenping_fixed_shares_round_half_up_and_the_remainder_absorbs_the_difference():
    schedule = premium_schedule(D("1000.05"), PREMIUM_PLANS["zhenping-2026"].rules, None, 2026)
    # 40 % = 400.02, 30 % = 300.015 -> 300.02 (half-up), remainder = 1000.05 - 700.04 = 300.01
    assert [i.amount for i in schedule] == [D("400.02"), D("300.02"), D("300.01")]


# --- schedules: Taikang -------------------------------------------------------------------------


def test_taikang_two_transfers_due_at_the_end_of_march_and_september():
    total = headcount_premium(PER_CAPITA["taikang-2025"], {"insured": 54_667})
    assert total == D("8200050.00")
    schedule = premium_schedule(total, PREMIUM_PLANS["taikang-2025"].rules, None, 2025)
    assert [(i.amount, i.due_date) for i in schedule] == [
        (D("4100025.00"), date(2025, 3, 31)),
        (D("4100025.00"), date(2025, 9, 30)),
    ]


def test_half_a_fen_rounds_up_not_to_even():
    schedule = premium_schedule(D("8200000.01"), PREMIUM_PLANS["taikang-2025"].rules, None, 2025)
    assert [i.amount for i in schedule] == [D("4100000.01"), D("4100000.00")]


def test_within_february_of_a_leap_year_ends_on_the_29th():
    rules = [InstallmentRule(D("1"), WithinMonth(2))]
    assert premium_schedule(D("10.00"), rules, None, 2028)[0].due_date == date(2028, 2, 29)


def test_shares_summing_to_one_without_a_remainder_let_the_last_installment_absorb_rounding():
    rules = [InstallmentRule(D("0.5"), WithinMonth(3)), InstallmentRule(D("0.5"), WithinMonth(9))]
    schedule = premium_schedule(D("0.03"), rules, None, 2025)
    assert [i.amount for i in schedule] == [D("0.02"), D("0.01")]
    assert [i.share for i in schedule] == [D("0.5"), D("0.5")]


# --- schedules: Beijing, event-based -----------------------------------------------------------


def test_beijing_single_payment_has_no_due_date_until_funds_and_invoice_are_recorded():
    rules = PREMIUM_PLANS["beijing-chaoyang-2026"].rules
    schedule = premium_schedule(D("3912285.00"), rules, date(2026, 1, 15), 2026, weekdays_only)
    assert len(schedule) == 1
    (payment,) = schedule
    assert (payment.seq, payment.share, payment.amount, payment.due_date) == (
        1,
        D("1"),
        D("3912285.00"),
        None,
    )
    assert "within 5 working days after the fiscal funds arrive" in payment.description
    assert "within 10 working days after the invoice is received" in payment.description
    assert "whichever is later" in payment.description

    only_funds = premium_schedule(
        D("3912285.00"),
        rules,
        None,
        2026,
        weekdays_only,
        event_dates={FISCAL_FUNDS_ARRIVED: date(2026, 3, 2)},
    )
    assert only_funds[0].due_date is None


def test_beijing_due_date_is_the_later_of_funds_plus_5_and_invoice_plus_10_working_days():
    rules = PREMIUM_PLANS["beijing-chaoyang-2026"].rules
    events = {FISCAL_FUNDS_ARRIVED: date(2026, 3, 2), INVOICE_RECEIVED: date(2026, 3, 4)}
    # funds Mon 03-02 + 5 -> Mon 03-09; invoice Wed 03-04 + 10 -> Wed 03-18
    schedule = premium_schedule(
        D("3912285.00"), rules, None, 2026, weekdays_only, event_dates=events
    )
    assert schedule[0].due_date == date(2026, 3, 18)


def test_working_days_skip_national_day_2025_and_count_the_makeup_weekend_days():
    rules = PREMIUM_PLANS["beijing-chaoyang-2026"].rules
    # Funds arrive Friday 09-26: Sun 09-28 (worked), 09-29, 09-30, [10-01..08 off], 10-09, 10-10.
    # Invoice Monday 09-15: 09-16..19, 09-22..26, Sun 09-28 (worked) = 10th working day.
    events = {FISCAL_FUNDS_ARRIVED: date(2025, 9, 26), INVOICE_RECEIVED: date(2025, 9, 15)}
    chinese = premium_schedule(D("3912285.00"), rules, None, 2025, chinese_2025, event_dates=events)
    naive = premium_schedule(D("3912285.00"), rules, None, 2025, weekdays_only, event_dates=events)
    assert chinese[0].due_date == date(2025, 10, 10)
    assert naive[0].due_date == date(2025, 10, 3)  # a weekday-only count would land in the holiday

    # An invoice received 10-09 runs through Saturday 10-11 (worked): 10-10, 10-11, 10-13..17,
    # 10-20, 10-21, 10-22; later than the funds' 10-10, so it decides.
    events[INVOICE_RECEIVED] = date(2025, 10, 9)
    later = premium_schedule(D("3912285.00"), rules, None, 2025, chinese_2025, event_dates=events)
    assert later[0].due_date == date(2025, 10, 22)


def test_the_2025_calendar_fake_knows_its_makeup_days():
    assert date(2025, 9, 28).weekday() == 6 and date(2025, 10, 11).weekday() == 5
    assert chinese_2025(date(2025, 9, 27), 1) == date(2025, 9, 28)
    assert chinese_2025(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert chinese_2025(date(2025, 10, 10), 1) == date(2025, 10, 11)


def test_a_working_day_rule_without_a_calendar_is_an_error_once_its_event_is_known():
    rules = PREMIUM_PLANS["beijing-chaoyang-2026"].rules
    events = {FISCAL_FUNDS_ARRIVED: date(2026, 3, 2), INVOICE_RECEIVED: date(2026, 3, 4)}
    with pytest.raises(ValueError, match="add_working_days"):
        premium_schedule(D("3912285.00"), rules, None, 2026, None, event_dates=events)


def test_zhenping_prepayment_is_due_60_working_days_after_signing():
    due = resolve_due_date(
        ZHENPING_PREPAYMENT_DUE,
        year=2026,
        signed_on=date(2026, 1, 5),
        add_working_days=weekdays_only,
    )
    assert due == date(2026, 3, 30)  # 12 full weeks of 5 working days after Monday 01-05
    assert resolve_due_date(ZHENPING_PREPAYMENT_DUE, year=2026) is None


def test_calendar_days_after_any_recorded_event():
    rule = CalendarDaysAfter(30, "cases_closed", "the year's cases are closed without objection")
    assert resolve_due_date(
        rule, year=2025, event_dates={"cases_closed": date(2026, 2, 10)}
    ) == date(2026, 3, 12)
    assert rule.describe() == "within 30 days after the year's cases are closed without objection"


def test_latest_of_describes_all_its_conditions():
    rule = LatestOf((WorkingDaysAfter(5, "a"), FixedDate(6, 30)))
    assert rule.describe() == "within 5 working days after a and by 06-30, whichever is later"


# --- schedule validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rules, message",
    [
        ([], "at least one"),
        (
            [
                InstallmentRule(REMAINDER, FixedDate(3, 31)),
                InstallmentRule(REMAINDER, FixedDate(9, 30)),
            ],
            "at most one",
        ),
        (
            [
                InstallmentRule(D("0.6"), FixedDate(3, 31)),
                InstallmentRule(D("0.3"), FixedDate(9, 30)),
            ],
            "not 1",
        ),
        (
            [
                InstallmentRule(D("1"), FixedDate(3, 31)),
                InstallmentRule(REMAINDER, FixedDate(9, 30)),
            ],
            "nothing is left",
        ),
        (
            [
                InstallmentRule(D("0"), FixedDate(3, 31)),
                InstallmentRule(REMAINDER, FixedDate(9, 30)),
            ],
            "share",
        ),
        ([InstallmentRule(D("1.2"), FixedDate(3, 31))], "share"),
    ],
)
def test_inconsistent_rules_are_refused(rules, message):
    with pytest.raises(ValueError, match=message):
        premium_schedule(D("1000.00"), rules, None, 2025)


def test_amounts_with_more_than_two_decimals_are_refused_not_truncated():
    with pytest.raises(ValueError, match="two decimals"):
        premium_schedule(D("1000.001"), PREMIUM_PLANS["taikang-2025"].rules, None, 2025)


def test_a_total_of_a_few_fen_that_cannot_be_split_is_refused():
    rules = [InstallmentRule(D("0.17"), FixedDate(1, 31)) for _ in range(5)]
    rules.append(InstallmentRule(REMAINDER, FixedDate(12, 31)))
    with pytest.raises(ValueError, match="too small"):
        premium_schedule(D("0.03"), rules, None, 2025)


def test_invalid_fixed_dates_are_refused_when_the_rule_is_built():
    with pytest.raises(ValueError):
        FixedDate(2, 30)
    with pytest.raises(ValueError):
        WithinMonth(13)


# --- supplementary premium ------------------------------------------------------------------------


def test_tongliao_end_of_november_headcount_replaces_the_provisional_one():
    per_capita = PER_CAPITA["tongliao-2025"]
    more = supplementary_premium(per_capita, {"resident": 2_217_285}, {"resident": 2_220_000})
    assert more == D("310134.45")  # 2,715 x 114.23
    fewer = supplementary_premium(per_capita, {"resident": 2_217_285}, {"resident": 2_210_000})
    assert fewer == D("-832165.55")  # -7,285 x 114.23
    final_total = headcount_premium(per_capita, {"resident": 2_220_000})
    assert final_total - D("253280465.55") == more


def test_zhenping_new_enrollees_pay_the_full_460_and_new_retirees_nothing():
    result = supplementary_premium(
        PER_CAPITA["zhenping-2026"],
        {"active": 3_000, "retired": 500},
        {"active": 3_012, "retired": 530},
    )
    assert result == D("5520.00")  # 12 x 460 + 30 x 0


def test_supplementary_premium_with_an_unknown_category_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        supplementary_premium(
            PER_CAPITA["zhenping-2026"], {"active": 1}, {"active": 1, "unknown": 2}
        )


# --- revolving fund ---------------------------------------------------------------------------------


def test_taikang_revolving_fund_is_5_percent_of_last_year_income_due_january_10():
    opening = revolving_opening(D("8200000.00"), 2025)
    assert opening.amount == D("410000.00")
    assert opening.due_date == date(2025, 1, 10)
    assert "410,000.00" in opening.description


@pytest.mark.parametrize(
    "balance, topup",
    [
        ("123456.78", "286543.22"),
        ("410000.00", "0.00"),
        ("500000.00", "0.00"),
        ("0", "410000.00"),
        ("-1000.00", "411000.00"),
    ],
)
def test_revolving_topup_restores_the_opening_amount_and_is_never_negative(balance, topup):
    assert revolving_topup(D("410000.00"), D(balance)) == D(topup)


# --- penalties ----------------------------------------------------------------------------------------


def test_beijing_confidentiality_breach_costs_20_percent_of_the_contract_amount():
    assert confidentiality_penalty(D("3912285.00")) == D("782457.00")


def test_taikang_early_termination_costs_10_percent_of_the_financing_rounded_half_up():
    assert early_termination_penalty(D("8200000.00")) == D("820000.00")
    assert early_termination_penalty(D("1234.45")) == D("123.45")  # 123.445, half-up
    assert early_termination_penalty(D("1234.55")) == D("123.46")


# --- purity -------------------------------------------------------------------------------------------


def test_calculations_import_neither_django_nor_the_orm():
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, finance.calculations, finance.calculations.seed; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"

"""Every number of DOMAIN.md §4 asserted against the seed plans, through the public engine API.

Plain pytest, no Django: the engine is a pure library.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest

from claims.engine import (
    Accumulators,
    ItemLine,
    PersonAttributes,
    SettlementRecord,
    evaluate,
    plan_from_dict,
    seed_plans,
)
from programs.benefit_rules.seed_plans import SEED_PLAN_DICTS

PLANS = seed_plans()
D = Decimal
ORDINARY = PersonAttributes()
SPECIAL = PersonAttributes(category="special")
RETIRED = PersonAttributes(employment="retired")
HEALTHY = PersonAttributes(health="healthy")
PREEXISTING = PersonAttributes(health="preexisting")
YEAR = {"tongliao-2025": 2025, "taikang-2025": 2025, "zhenping-2026": 2026, "beijing-chaoyang-2026": 2026}


def rec(code: str, n: int = 1, *, enddate: date | None = None, claim_kind: str = "inpatient",
        items: tuple[ItemLine, ...] = (), **fields: object) -> SettlementRecord:
    """A settlement of person P1; amounts given as strings or ints become Decimal."""
    amounts = {k: D(str(v)) for k, v in fields.items() if k not in ("place", "hosp_lv", "designated", "drug_list")}
    codes = {k: v for k, v in fields.items() if k in ("place", "hosp_lv", "designated", "drug_list")}
    return SettlementRecord(
        setl_id=f"S{n}", psn_no="P1", enddate=enddate or date(YEAR[code], 3, 2), claim_kind=claim_kind,
        items=items, **codes, **amounts,  # type: ignore[arg-type]
    )


def run(code: str, person: PersonAttributes, *records: SettlementRecord,
        accumulators: Accumulators | None = None, explain: bool = False):  # type: ignore[no-untyped-def]
    return evaluate(PLANS[code], {"P1": person}, list(records), accumulators, explain=explain)


def payables(code: str, person: PersonAttributes, *records: SettlementRecord, **kw: object) -> list[Decimal]:
    return [r.payable for r in run(code, person, *records, **kw).results]  # type: ignore[arg-type]


def tl(base: int | str, n: int = 1, *, place: str = "in_region", enddate: date | None = None,
       claim_kind: str = "inpatient") -> SettlementRecord:
    """Tongliao record whose critical-illness base is `base` (hifp_pay 0)."""
    return rec("tongliao-2025", n, place=place, enddate=enddate, claim_kind=claim_kind, inscp_scp_amt=base)


# --------------------------------------------------------------------------- worked examples


def test_worked_example_tongliao_base_22000_pays_4800() -> None:
    record = rec("tongliao-2025", place="in_region", hosp_lv="2", inscp_scp_amt="52000.00", hifp_pay="30000.00")
    result = run("tongliao-2025", ORDINARY, record).results[0]
    assert result.payable == D("4800.00")
    assert dict(result.by_liability) == {"critical_illness": D("4800.00")}


def test_worked_example_second_record_same_year_base_40000_pays_28400() -> None:
    first = rec("tongliao-2025", 1, place="in_region", inscp_scp_amt="52000.00", hifp_pay="30000.00")
    second = rec("tongliao-2025", 2, place="in_region", inscp_scp_amt="40000.00",
                 enddate=date(2025, 9, 1))
    evaluation = run("tongliao-2025", ORDINARY, first, second)
    assert [r.payable for r in evaluation.results] == [D("4800.00"), D("28400.00")]
    assert evaluation.accumulators.base[("P1", "critical_illness")] == D("62000.00")
    assert evaluation.accumulators.paid[("P1", "critical_illness")] == D("33200.00")


def test_worked_example_zhenping_over_cap_10000_pays_9000() -> None:
    assert payables("zhenping-2026", ORDINARY, rec("zhenping-2026", over_cap_amt="10000")) == [D("9000.00")]


# --------------------------------------------------------------------------- Tongliao


@pytest.mark.parametrize(("person", "deductible"), [(ORDINARY, 14000), (SPECIAL, 7000)])
def test_tongliao_deductible(person: PersonAttributes, deductible: int) -> None:
    assert payables("tongliao-2025", person, tl(deductible)) == [D("0.00")]
    # One cent above the deductible pays 60 % / 65 % of a cent, rounded half-up to 0.01.
    assert payables("tongliao-2025", person, tl(f"{deductible}.01")) == [D("0.01")]
    assert payables("tongliao-2025", person, tl(deductible + 1000)) == [
        D("600.00") if person is ORDINARY else D("650.00")
    ]


# (person, place, enddate) -> payable for a single record with base 30k, 50k, 80k, 100k.
BAND_TABLE = [
    (ORDINARY, "in_region", date(2025, 3, 2), ["9600.00", "23600.00", "47600.00", "65600.00"]),
    (SPECIAL, "in_region", date(2025, 3, 2), ["14950.00", "29950.00", "55450.00", "74450.00"]),
    (ORDINARY, "out_of_region", date(2025, 6, 30), ["9600.00", "22600.00", "45100.00", "62100.00"]),
    (SPECIAL, "out_of_region", date(2025, 6, 30), ["14950.00", "28950.00", "52950.00", "70950.00"]),
    (ORDINARY, "out_of_region", date(2025, 7, 1), ["9600.00", "23600.00", "47600.00", "65600.00"]),
    (SPECIAL, "out_of_region", date(2025, 7, 1), ["14950.00", "29950.00", "55450.00", "74450.00"]),
]


@pytest.mark.parametrize(("person", "place", "enddate", "expected"), BAND_TABLE)
def test_tongliao_band_boundaries_30000_50000_80000(
    person: PersonAttributes, place: str, enddate: date, expected: list[str]
) -> None:
    for base, amount in zip((30000, 50000, 80000, 100000), expected, strict=True):
        assert payables("tongliao-2025", person, tl(base, place=place, enddate=enddate)) == [D(amount)]


# (person, place, enddate) -> rate of each band, checked on the margin inside each band.
RATE_TABLE = [
    (ORDINARY, "in_region", date(2025, 1, 1), ["0.60", "0.70", "0.80", "0.90"]),
    (SPECIAL, "in_region", date(2025, 12, 31), ["0.65", "0.75", "0.85", "0.95"]),
    (ORDINARY, "out_of_region", date(2025, 1, 1), ["0.60", "0.65", "0.75", "0.85"]),
    (SPECIAL, "out_of_region", date(2025, 6, 30), ["0.65", "0.70", "0.80", "0.90"]),
    (ORDINARY, "out_of_region", date(2025, 7, 1), ["0.60", "0.70", "0.80", "0.90"]),
    (SPECIAL, "out_of_region", date(2025, 12, 31), ["0.65", "0.75", "0.85", "0.95"]),
]


@pytest.mark.parametrize(("person", "place", "enddate", "rates"), RATE_TABLE)
def test_tongliao_rate_of_each_band(person: PersonAttributes, place: str, enddate: date, rates: list[str]) -> None:
    for inside, rate in zip((20000, 40000, 60000, 90000), rates, strict=True):
        # A second record of 100 yuan inside the band pays 100 x the band's rate.
        pays = payables("tongliao-2025", person, tl(inside, 1, place=place, enddate=enddate),
                        tl(100, 2, place=place, enddate=enddate))
        assert pays[1] == D(rate) * 100


def test_tongliao_out_of_region_rates_switch_for_discharge_on_2025_07_01() -> None:
    before = tl(100000, place="out_of_region", enddate=date(2025, 6, 30))
    after = tl(100000, place="out_of_region", enddate=date(2025, 7, 1))
    assert payables("tongliao-2025", ORDINARY, before) == [D("62100.00")]
    assert payables("tongliao-2025", ORDINARY, after) == [D("65600.00")]
    # In region nothing changes on 2025-07-01.
    assert payables("tongliao-2025", ORDINARY, tl(100000, enddate=date(2025, 6, 30))) == [D("65600.00")]


def test_tongliao_ordinary_cap_380000_and_special_uncapped() -> None:
    evaluation = run("tongliao-2025", ORDINARY, tl(600000, 1), tl(1000, 2), explain=True)
    assert [r.payable for r in evaluation.results] == [D("380000.00"), D("0.00")]
    line = evaluation.results[0].explanation.lines[0]  # type: ignore[union-attr]
    assert line.rounded == D("515600.00")
    assert line.caps[0].limit == D("380000.00") and line.caps[0].applied
    assert line.remaining == D("0.00")
    special = run("tongliao-2025", SPECIAL, tl(600000), explain=True).results[0]
    assert special.payable == D("549450.00")
    assert special.explanation.lines[0].caps[0].limit is None  # type: ignore[union-attr]


def test_tongliao_cap_reached_across_records() -> None:
    pays = payables("tongliao-2025", ORDINARY, tl(300000, 1), tl(300000, 2))
    assert pays == [D("245600.00"), D("134400.00")]  # 245,600 + 270,000 capped at 380,000
    assert sum(pays) == D("380000.00")


def test_tongliao_accident_inpatient_pays_accident_basic_and_critical_illness() -> None:
    record = rec("tongliao-2025", claim_kind="accident_inpatient", place="in_region",
                 inscp_scp_amt="52000.00", hifp_pay="30000.00")
    result = run("tongliao-2025", ORDINARY, record).results[0]
    assert dict(result.by_liability) == {"critical_illness": D("4800.00"), "accident_basic": D("30000.00")}
    assert result.payable == D("34800.00")


def test_tongliao_accident_basic_rate_100_percent_cap_120000() -> None:
    record = rec("tongliao-2025", claim_kind="accident_inpatient", place="in_region",
                 inscp_scp_amt="150000.00", hifp_pay="150000.00")
    follow_up = rec("tongliao-2025", 2, claim_kind="accident_inpatient", place="in_region",
                    inscp_scp_amt="10.00", hifp_pay="10.00")
    results = run("tongliao-2025", SPECIAL, record, follow_up).results
    assert dict(results[0].by_liability) == {"accident_basic": D("120000.00")}
    assert results[1].payable == D("0.00")


def test_tongliao_special_outpatient_is_covered() -> None:
    assert payables("tongliao-2025", ORDINARY, tl(22000, claim_kind="special_outpatient")) == [D("4800.00")]


def test_tongliao_student_accident_outpatient_75_percent_no_deductible_cap_2000() -> None:
    student = PersonAttributes(student=True)
    kind = "student_accident_outpatient"
    assert payables("tongliao-2025", student, rec("tongliao-2025", claim_kind=kind, inscp_scp_amt="1000")) == [
        D("750.00")
    ]
    assert payables("tongliao-2025", student, rec("tongliao-2025", claim_kind=kind, inscp_scp_amt="0.01")) == [
        D("0.01")
    ]
    pays = payables("tongliao-2025", student, rec("tongliao-2025", 1, claim_kind=kind, inscp_scp_amt="3000"),
                    rec("tongliao-2025", 2, claim_kind=kind, inscp_scp_amt="100"))
    assert pays == [D("2000.00"), D("0.00")]


def test_tongliao_student_liability_is_for_students_only() -> None:
    record = rec("tongliao-2025", claim_kind="student_accident_outpatient", inscp_scp_amt="1000")
    evaluation = run("tongliao-2025", ORDINARY, record, explain=True)
    result = evaluation.results[0]
    assert result.payable == D("0.00")
    line = result.explanation.lines[0]  # type: ignore[union-attr]
    assert not line.covered and line.reason == "not covered: student must be true (is false)"
    assert evaluation.accumulators.base == {}  # an uncovered record does not accumulate


@pytest.mark.parametrize("enddate", [date(2024, 12, 31), date(2026, 1, 1)])
def test_tongliao_record_outside_the_plan_year_pays_nothing(enddate: date) -> None:
    result = run("tongliao-2025", ORDINARY, tl(100000, enddate=enddate), explain=True).results[0]
    assert result.payable == D("0.00")
    assert result.explanation.outside == (  # type: ignore[union-attr]
        f"enddate {enddate.isoformat()} is outside the plan period 2025-01-01..2025-12-31 of tongliao-2025: "
        "nothing is payable"
    )


def test_tongliao_first_and_last_day_of_the_year_are_inside() -> None:
    assert payables("tongliao-2025", ORDINARY, tl(22000, enddate=date(2025, 1, 1))) == [D("4800.00")]
    assert payables("tongliao-2025", ORDINARY, tl(22000, enddate=date(2025, 12, 31))) == [D("4800.00")]


def test_claim_kind_not_covered_by_the_plan_pays_nothing() -> None:
    result = run("tongliao-2025", ORDINARY, tl(100000, claim_kind="special_drug"), explain=True).results[0]
    assert result.payable == D("0.00")
    assert "claim kind special_drug is not covered by tongliao-2025" in result.explanation.outside  # type: ignore[union-attr,operator]


# --------------------------------------------------------------------------- Taikang

TAIKANG_TABLE = [
    ("local", "active", "2", "8500.00"),
    ("local", "retired", "2", "9000.00"),
    ("local", "active", "3", "8500.00"),
    ("local", "active", "3A", "8000.00"),  # 85 % - 5 points
    ("local", "retired", "3A", "8500.00"),  # 90 % - 5 points
    ("province_referral", "active", "2", "8000.00"),
    ("province_referral", "retired", "2", "8500.00"),
    ("province_referral", "active", "3A", "8000.00"),  # the 3A reduction is for local care only
    ("out_of_province_referral", "active", "3", "7500.00"),
    ("out_of_province_referral", "retired", "3", "8000.00"),
    ("remote_resident", "retired", "3A", "8500.00"),
    ("remote_resident", "active", "2", "0.00"),  # remote residence is a retirees' status
]


@pytest.mark.parametrize(("place", "employment", "hosp_lv", "expected"), TAIKANG_TABLE)
def test_taikang_rate_by_place_employment_and_3a(place: str, employment: str, hosp_lv: str, expected: str) -> None:
    person = PersonAttributes(employment=employment)
    record = rec("taikang-2025", place=place, hosp_lv=hosp_lv, over_cap_amt="10000")
    assert payables("taikang-2025", person, record) == [D(expected)]


def test_taikang_remote_resident_active_explains_no_matching_rule() -> None:
    record = rec("taikang-2025", place="remote_resident", hosp_lv="2", over_cap_amt="10000")
    line = run("taikang-2025", ORDINARY, record, explain=True).results[0].explanation.lines[0]  # type: ignore[union-attr]
    assert not line.covered
    assert line.reason == "no schedule row matches (employment=active, claim_kind=inpatient, place=remote_resident, hosp_lv=2)"


def test_taikang_no_deductible_and_half_up_rounding() -> None:
    # 0.10 x 85 % = 0.085 -> 0.09 (half-up; half-even would give 0.08).
    record = rec("taikang-2025", place="local", hosp_lv="2", over_cap_amt="0.10")
    assert payables("taikang-2025", ORDINARY, record) == [D("0.09")]
    zero = rec("taikang-2025", place="local", hosp_lv="2", over_cap_amt="0")
    assert payables("taikang-2025", ORDINARY, zero) == [D("0.00")]


def test_taikang_cap_470000() -> None:
    first = rec("taikang-2025", 1, place="local", hosp_lv="2", over_cap_amt="600000")
    second = rec("taikang-2025", 2, place="local", hosp_lv="2", over_cap_amt="1000")
    assert payables("taikang-2025", RETIRED, first, second) == [D("470000.00"), D("0.00")]


def test_taikang_special_outpatient_is_covered() -> None:
    record = rec("taikang-2025", claim_kind="special_outpatient", place="local", hosp_lv="2", over_cap_amt="10000")
    assert payables("taikang-2025", ORDINARY, record) == [D("8500.00")]


# --------------------------------------------------------------------------- Zhenping


def test_zhenping_sum_insured_540000_and_remaining_shown() -> None:
    evaluation = run("zhenping-2026", ORDINARY, rec("zhenping-2026", 1, over_cap_amt="10000"),
                     rec("zhenping-2026", 2, over_cap_amt="700000"), rec("zhenping-2026", 3, over_cap_amt="5"),
                     explain=True)
    assert [r.payable for r in evaluation.results] == [D("9000.00"), D("531000.00"), D("0.00")]
    remaining = [r.explanation.lines[0].remaining for r in evaluation.results]  # type: ignore[union-attr]
    assert remaining == [D("531000.00"), D("0.00"), D("0.00")]
    assert evaluation.accumulators.paid[("P1", "supplementary")] == D("540000.00")


def test_zhenping_rate_90_percent_for_special_outpatient_too() -> None:
    record = rec("zhenping-2026", claim_kind="special_outpatient", over_cap_amt="1234.56")
    assert payables("zhenping-2026", RETIRED, record) == [D("1111.10")]  # 1111.104


def test_zhenping_2025_discharge_is_outside_the_2026_plan() -> None:
    record = rec("zhenping-2026", enddate=date(2025, 12, 31), over_cap_amt="10000")
    assert payables("zhenping-2026", ORDINARY, record) == [D("0.00")]


# --------------------------------------------------------------------------- Beijing

BJ = "beijing-chaoyang-2026"


def bj_in(base: int | str, n: int = 1, claim_kind: str = "inpatient", hosp_lv: str = "1") -> SettlementRecord:
    """In-catalog base = inscp + preselfpay - hifp - hifmi = `base` (hosp_lv 1: no out-of-catalog)."""
    b = D(str(base))
    return rec(BJ, n, claim_kind=claim_kind, hosp_lv=hosp_lv, inscp_scp_amt=b + 21000 - 1404,
               preselfpay_amt="1404", hifp_pay="15000", hifmi_pay="6000")


@pytest.mark.parametrize(("base", "expected"), [
    (15000, "0.00"),  # deductible 15,000
    (30404, "3851.00"),  # (15,000, 30,404] at 25 %
    (30405, "3851.80"),  # above 30,404 at 80 %
    (40404, "11851.00"),
])
def test_beijing_in_catalog_healthy(base: int, expected: str) -> None:
    assert payables(BJ, HEALTHY, bj_in(base)) == [D(expected)]


@pytest.mark.parametrize(("base", "expected"), [(30404, "0.00"), (40404, "4000.00")])
def test_beijing_in_catalog_preexisting_deductible_30404_at_40_percent(base: int, expected: str) -> None:
    assert payables(BJ, PREEXISTING, bj_in(base)) == [D(expected)]


@pytest.mark.parametrize("claim_kind", ["outpatient", "special_outpatient"])
def test_beijing_in_catalog_covers_outpatient_care(claim_kind: str) -> None:
    assert payables(BJ, HEALTHY, bj_in(30404, claim_kind=claim_kind)) == [D("3851.00")]


def test_beijing_ci_deductible_is_one_parameter_for_deductible_and_band() -> None:
    data = copy.deepcopy(SEED_PLAN_DICTS[BJ])
    data["parameters"][0]["value"] = "31000"
    plan = plan_from_dict(data)
    healthy = evaluate(plan, {"P1": HEALTHY}, [bj_in(31001)]).results[0]
    assert healthy.payable == D("4000.80")  # 16,000 x 25 % + 1 x 80 %
    sick = evaluate(plan, {"P1": PREEXISTING}, [bj_in(41000)]).results[0]
    assert sick.payable == D("4000.00")  # (41,000 - 31,000) x 40 %


def test_beijing_in_catalog_cap_1000000() -> None:
    assert payables(BJ, PREEXISTING, bj_in(3000000)) == [D("1000000.00")]


@pytest.mark.parametrize(("person", "expected"), [
    (PersonAttributes(health="healthy", continuous_no_claim_3y=True), "14000.00"),  # 5,000 at 70 %
    (PersonAttributes(health="preexisting", continuous_no_claim_3y=True), "3500.00"),  # 15,000 at 35 %
    (PersonAttributes(health="healthy"), "7000.00"),  # 15,000 at 70 %
    (PersonAttributes(health="preexisting"), "1750.00"),  # 20,000 at 35 %
])
def test_beijing_out_of_catalog_deductibles_and_rates(person: PersonAttributes, expected: str) -> None:
    record = rec(BJ, hosp_lv="2", fulamt_ownpay_amt="25000")
    assert run(BJ, person, record).results[0].by_liability == {"out_of_catalog": D(expected)}


@pytest.mark.parametrize(("claim_kind", "hosp_lv", "pays"), [
    ("inpatient", "1", False), ("inpatient", "2", True), ("inpatient", "3", True), ("inpatient", "3A", True),
    ("outpatient", "3A", False), ("special_outpatient", "3", False),
])
def test_beijing_out_of_catalog_only_inpatient_at_level_2_or_above(claim_kind: str, hosp_lv: str, pays: bool) -> None:
    record = rec(BJ, claim_kind=claim_kind, hosp_lv=hosp_lv, fulamt_ownpay_amt="25000")
    result = run(BJ, HEALTHY, record, explain=True).results[0]
    assert result.payable == (D("7000.00") if pays else D("0.00"))
    if claim_kind == "inpatient" and not pays:
        reasons = [line.reason for line in result.explanation.lines if not line.covered]  # type: ignore[union-attr]
        assert reasons == ["not covered: hosp_lv must be one of 2, 3, 3A (is 1)"]


def test_beijing_out_of_catalog_cap_1000000() -> None:
    record = rec(BJ, hosp_lv="3", fulamt_ownpay_amt="2000000")
    assert payables(BJ, HEALTHY, record) == [D("1000000.00")]


def drug(code: str, amount: str, item_type: str = "drug") -> ItemLine:
    return ItemLine(code, item_type, D(amount))


@pytest.mark.parametrize(("person", "item_type", "amount", "limit", "paid"), [
    (HEALTHY, "drug", "500000", "428571.43", "300000.00"),  # 300,000 / 70 %
    (HEALTHY, "implant", "200000", "142857.14", "100000.00"),  # 100,000 / 70 %
    (PREEXISTING, "drug", "900000", "857142.86", "300000.00"),  # 300,000 / 35 %
    (PREEXISTING, "implant", "300000", "285714.29", "100000.00"),  # 100,000 / 35 %
])
def test_beijing_per_item_caps_300000_drug_100000_implant(
    person: PersonAttributes, item_type: str, amount: str, limit: str, paid: str
) -> None:
    # A first record meets the deductible with non-itemised costs; then one big item.
    deductible = {HEALTHY: "15000", PREEXISTING: "20000"}[person]
    first = rec(BJ, 1, hosp_lv="2", fulamt_ownpay_amt=deductible)
    second = rec(BJ, 2, hosp_lv="2", fulamt_ownpay_amt=amount, items=(drug("X1", amount, item_type),))
    evaluation = run(BJ, person, first, second, explain=True)
    assert evaluation.results[1].payable == D(paid)
    item = evaluation.results[1].explanation.lines[1].items[0]  # type: ignore[union-attr]
    assert (item.limit, item.counted) == (D(limit), D(limit))
    assert evaluation.accumulators.item_base[("P1", "out_of_catalog", "X1")] == D(limit)


def test_beijing_item_limit_is_cumulative_per_item_code_and_remainder_counts_in_full() -> None:
    first = rec(BJ, 1, hosp_lv="2", fulamt_ownpay_amt="15000")  # meets the deductible
    d1 = rec(BJ, 2, hosp_lv="2", fulamt_ownpay_amt="300000", items=(drug("D1", "300000"),))
    d1_again = rec(BJ, 3, hosp_lv="2", fulamt_ownpay_amt="301000",
                   items=(drug("D1", "200000"), drug("D2", "100000")))
    evaluation = run(BJ, HEALTHY, first, d1, d1_again)
    # D1 counts 300,000 then 128,571.43 (limit 428,571.43); D2 counts in full; 1,000 non-itemised.
    assert [r.payable for r in evaluation.results] == [D("0.00"), D("210000.00"), D("160700.00")]
    assert evaluation.accumulators.item_base[("P1", "out_of_catalog", "D1")] == D("428571.43")
    assert evaluation.accumulators.item_base[("P1", "out_of_catalog", "D2")] == D("100000.00")
    total_d1 = (D("300000") + D("128571.43")) * D("0.70")
    assert total_d1.quantize(D("0.01")) == D("300000.00")


@pytest.mark.parametrize(("person", "expected"), [(HEALTHY, "6500.00"), (PREEXISTING, "3500.00")])
@pytest.mark.parametrize(("drug_list", "liability"), [
    ("sd1_domestic", "special_drug_1"), ("sd1_overseas", "special_drug_1"), ("sd2", "special_drug_2"),
])
def test_beijing_special_drugs_65_or_35_percent_no_deductible(
    person: PersonAttributes, expected: str, drug_list: str, liability: str
) -> None:
    record = rec(BJ, claim_kind="special_drug", drug_list=drug_list, designated=True, drug_amount="10000")
    assert run(BJ, person, record).results[0].by_liability == {liability: D(expected)}


@pytest.mark.parametrize("designated", [False, None])
def test_beijing_special_drug_outside_designated_institution_pays_nothing(designated: bool | None) -> None:
    record = SettlementRecord("S1", "P1", date(2026, 5, 1), "special_drug", drug_list="sd1_domestic",
                              designated=designated, drug_amount=D("10000"))
    result = run(BJ, HEALTHY, record, explain=True).results[0]
    assert result.payable == D("0.00")
    shown = "false" if designated is False else "missing"
    assert result.explanation.lines[0].reason == f"not covered: designated must be true (is {shown})"  # type: ignore[union-attr]


def test_beijing_special_drug_1_domestic_and_overseas_500000_each_1000000_together() -> None:
    def sd(n: int, drug_list: str, amount: str) -> SettlementRecord:
        return rec(BJ, n, claim_kind="special_drug", drug_list=drug_list, designated=True, drug_amount=amount)

    evaluation = run(BJ, HEALTHY, sd(1, "sd1_domestic", "1000000"), sd(2, "sd1_overseas", "1000000"),
                     sd(3, "sd1_domestic", "100"), sd(4, "sd1_overseas", "100"), sd(5, "sd2", "100"))
    assert [r.payable for r in evaluation.results] == [
        D("500000.00"), D("500000.00"), D("0.00"), D("0.00"), D("65.00")
    ]
    acc = evaluation.accumulators
    assert acc.paid[("P1", "special_drug_1")] == D("1000000.00")
    assert acc.shared_paid[("P1", "special_drug_1_domestic")] == D("500000.00")
    assert acc.shared_paid[("P1", "special_drug_1_overseas")] == D("500000.00")


def test_beijing_special_drug_1_together_cap_binds_on_its_own() -> None:
    start = Accumulators.of(paid={("P1", "special_drug_1"): D("995000.00")})
    record = rec(BJ, claim_kind="special_drug", drug_list="sd1_domestic", designated=True, drug_amount="10000")
    assert payables(BJ, HEALTHY, record, accumulators=start) == [D("5000.00")]


def test_beijing_special_drug_2_cap_500000() -> None:
    def sd2(n: int, amount: str) -> SettlementRecord:
        return rec(BJ, n, claim_kind="special_drug", drug_list="sd2", designated=True, drug_amount=amount)

    assert payables(BJ, HEALTHY, sd2(1, "1000000"), sd2(2, "100")) == [D("500000.00"), D("0.00")]


def test_beijing_total_sum_insured_3500000_is_shared_by_all_liabilities() -> None:
    start = Accumulators.of(shared_paid={("P1", "total"): D("3499000.00")})
    result = run(BJ, HEALTHY, bj_in(40404), accumulators=start, explain=True).results[0]
    assert result.payable == D("1000.00")
    caps = result.explanation.lines[0].caps  # type: ignore[union-attr]
    assert [(c.code, c.limit, c.applied) for c in caps] == [
        ("in_catalog", D("1000000.00"), False), ("total", D("3500000.00"), True)
    ]


def test_beijing_2027_discharge_is_outside_the_2026_plan() -> None:
    assert payables(BJ, HEALTHY, bj_in(40404)._replace(enddate=date(2027, 1, 1))) == [D("0.00")]


def test_dated_attributes_take_the_discharge_dates_category_and_keep_one_running_total() -> None:
    from claims.engine import DatedAttributes

    special_from_july = DatedAttributes((date(2025, 1, 1), date(2025, 7, 1)), (ORDINARY, SPECIAL))
    march, august = tl(22000, 1, enddate=date(2025, 3, 10)), tl(22000, 2, enddate=date(2025, 8, 10))
    # ordinary in March: (14,000, 22,000] × 60 %; special in August on the same running base:
    # (22,000, 44,000] → 8,000 × 65 % + 14,000 × 75 %, in both orders of evaluation
    assert payables("tongliao-2025", special_from_july, march, august) == [D("4800.00"), D("15700.00")]  # type: ignore[arg-type]
    assert payables("tongliao-2025", special_from_july, august) == [D("9750.00")]  # type: ignore[arg-type]
    assert payables("tongliao-2025", special_from_july, march) == [D("4800.00")]  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DatedAttributes((date(2025, 7, 1), date(2025, 1, 1)), (ORDINARY, SPECIAL))

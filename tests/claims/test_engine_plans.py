"""Plans as data: dict round trips, validation messages, and the engine's generic behaviour
(no contract-specific code, immutable inputs, batches, explanations on demand)."""

from __future__ import annotations

import ast
import copy
import json
import pickle
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import claims.engine as engine_package
import programs.benefit_rules as benefit_rules_package
from claims.engine import (
    Accumulators,
    EngineInputError,
    Evaluator,
    InvalidPlan,
    PersonAttributes,
    PlanFormatError,
    SettlementRecord,
    evaluate,
    evaluate_one,
    explanation_steps,
    plan_from_dict,
    plan_to_dict,
    seed_plans,
    validate_plan,
)
from programs.benefit_rules.seed_plans import SEED_PLAN_DICTS

D = Decimal
PLANS = seed_plans()


def tl_dict() -> dict[str, Any]:
    return copy.deepcopy(SEED_PLAN_DICTS["tongliao-2025"])


def tl_record(n: int, base: str, enddate: date = date(2025, 3, 2), psn: str = "P1") -> SettlementRecord:
    return SettlementRecord(f"S{n}", psn, enddate, "inpatient", place="in_region", inscp_scp_amt=D(base))


# --------------------------------------------------------------------------- dict form


@pytest.mark.parametrize("code", sorted(SEED_PLAN_DICTS))
def test_seed_plans_are_valid_and_round_trip_through_json(code: str) -> None:
    plan = PLANS[code]
    assert plan.code == code
    assert validate_plan(plan) == []
    text = json.dumps(plan_to_dict(plan), ensure_ascii=False)
    assert plan_from_dict(json.loads(text)) == plan
    assert plan_to_dict(plan_from_dict(json.loads(text))) == plan_to_dict(plan)


def test_base_formula_may_be_written_as_text() -> None:
    data = tl_dict()
    data["liabilities"][0]["base"] = "inscp_scp_amt - hifp_pay"
    assert plan_from_dict(data) == PLANS["tongliao-2025"]


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["liabilities"][0]["schedule"][0].update(deductible=14000.0),
     "liabilities[0].schedule[0].deductible: expected a decimal string, got 14000.0 (floats are refused)"),
    (lambda d: d["liabilities"][0]["schedule"][0].update(deductable="1"),
     "liabilities[0].schedule[0]: unknown key 'deductable'"),
    (lambda d: d["liabilities"][0]["schedule"][0]["bands"][0].update(rate="6O%"),
     "liabilities[0].schedule[0].bands[0].rate: malformed decimal '6O%'"),
    (lambda d: d["liabilities"][0]["schedule"][0]["when"].update(colour=["red"]),
     "liabilities[0].schedule[0].when: unknown key 'colour'"),
    (lambda d: d.pop("period_end"), "plan: missing key 'period_end'"),
    (lambda d: d["liabilities"][0].update(base="inscp_scp_amt hifp_pay"),
     "liabilities[0].base: malformed base formula 'inscp_scp_amt hifp_pay'"),
])
def test_malformed_plan_dicts_are_refused_with_the_path(mutate: Any, message: str) -> None:
    data = tl_dict()
    mutate(data)
    with pytest.raises(PlanFormatError) as excinfo:
        plan_from_dict(data)
    assert str(excinfo.value) == message


# --------------------------------------------------------------------------- validation


def errors_after(mutate: Any, code: str = "tongliao-2025") -> list[str]:
    data = copy.deepcopy(SEED_PLAN_DICTS[code])
    mutate(data)
    return validate_plan(plan_from_dict(data))


def first_bands(d: dict[str, Any]) -> list[dict[str, Any]]:
    d["liabilities"][0]["schedule"][0]["bands"] = copy.deepcopy(d["liabilities"][0]["schedule"][0]["bands"])
    return d["liabilities"][0]["schedule"][0]["bands"]


def test_validation_reports_overlapping_bands() -> None:
    assert errors_after(lambda d: first_bands(d)[1].update(upto="25000")) == [
        "liability critical_illness: schedule row 1: band 2: upper bound 25000 is not above "
        "band 1's upper bound 30000 (overlapping bands)"
    ]
    assert errors_after(lambda d: first_bands(d)[0].update(upto="10000")) == [
        "liability critical_illness: schedule row 1: band 1: upper bound 10000 is not above "
        "the deductible 14000 (overlapping bands)"
    ]


def test_validation_reports_gapped_bands() -> None:
    assert errors_after(lambda d: first_bands(d)[3].update(upto="100000")) == [
        "liability critical_illness: schedule row 1: gap above 100000: the last band must be open-ended "
        "(upto null); limit payments with caps"
    ]
    assert errors_after(lambda d: first_bands(d)[1].update(upto=None)) == [
        "liability critical_illness: schedule row 1: band 2: open-ended band is not the last one "
        "(the bands after it are unreachable)"
    ]


@pytest.mark.parametrize("rate", ["1.01", "-0.10"])
def test_validation_reports_rates_outside_0_to_1(rate: str) -> None:
    assert errors_after(lambda d: first_bands(d)[0].update(rate=rate)) == [
        f"liability critical_illness: schedule row 1: band 1: rate {rate} outside 0..1"
    ]


def test_validation_reports_negative_caps_and_deductibles() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["liabilities"][0]["caps"][0]["amount"] = "-1"
        d["liabilities"][0]["schedule"][0]["deductible"] = "-14000"

    assert errors_after(mutate) == [
        "liability critical_illness: schedule row 1: deductible: negative amount -14000",
        "liability critical_illness: cap row 1: negative amount -1",
    ]


def test_validation_reports_amounts_with_more_than_two_decimals() -> None:
    assert errors_after(lambda d: d["liabilities"][0]["caps"][0].update(amount="380000.005")) == [
        "liability critical_illness: cap row 1: amount 380000.005 has more than two decimals"
    ]


def test_validation_reports_unknown_fields_codes_parameters_and_liabilities() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["liabilities"][0]["base"] = [["+", "inscp_scp"], ["-", "hifp_pay"]]
        d["liabilities"][0]["schedule"][0]["when"]["place"] = ["abroad"]
        d["liabilities"][1]["schedule"][0]["deductible"] = {"param": "nope"}
        d["shared_caps"] = [{"code": "x", "name": "x", "liabilities": ["ghost"], "amount": "1"}]

    assert errors_after(mutate) == [
        "liability critical_illness: unknown field 'inscp_scp' in base formula",
        "liability critical_illness: schedule row 1: when: unknown place 'abroad' (expected one of "
        "in_region, out_of_region, local, province_referral, out_of_province_referral, remote_resident)",
        "liability accident_basic: schedule row 1: deductible: unknown parameter 'nope'",
        "shared cap x: unknown liability 'ghost'",
    ]


def test_validation_requires_a_single_positive_rate_for_item_caps() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["liabilities"][1]["schedule"][0]["bands"] = [{"upto": "50000", "rate": "0.5"}, {"upto": None, "rate": "0.7"}]

    assert errors_after(mutate, "beijing-chaoyang-2026") == [
        "liability out_of_catalog: schedule row 1: item caps need exactly one band with a positive rate "
        "(item limit = cap / rate)"
    ]


def test_engine_refuses_an_invalid_plan() -> None:
    data = tl_dict()
    data["liabilities"][0]["schedule"][0]["bands"] = [{"upto": "30000", "rate": "2"}]
    with pytest.raises(InvalidPlan, match="rate 2 outside 0..1"):
        evaluate(plan_from_dict(data), {"P1": PersonAttributes()}, [tl_record(1, "1")])


# --------------------------------------------------------------------------- a fifth contract


def test_a_fifth_contract_is_configured_without_code() -> None:
    """A made-up county: two liabilities sharing one cap, a date switch, a person-dependent
    deductible; nothing in the engine changes."""
    data = {
        "code": "demo-2027", "name": "示例县 2027", "year": 2027,
        "period_start": "2027-01-01", "period_end": "2027-12-31",
        "liabilities": [
            {"code": "inpatient_top_up", "name": "住院补充", "claim_kinds": ["inpatient"],
             "base": "inscp_scp_amt - hifp_pay - hifmi_pay",
             "schedule": [
                 {"when": {"employment": ["retired"]}, "deductible": "1000",
                  "bands": [{"upto": "11000", "rate": "0.5"}, {"upto": None, "rate": "1"}]},
                 {"when": {"enddate_to": "2027-03-31"}, "deductible": "2000", "bands": [{"upto": None, "rate": "0.5"}]},
                 {"deductible": "2000", "bands": [{"upto": None, "rate": "0.6"}]},
             ],
             "caps": [{"amount": "10000"}]},
            {"code": "chronic", "name": "门诊慢特病", "claim_kinds": ["special_outpatient"], "base": "psn_cash_pay",
             "schedule": [{"deductible": "0", "bands": [{"upto": None, "rate": "0.3"}]}], "caps": [{"amount": None}]},
        ],
        "shared_caps": [{"code": "all", "name": "年度合计", "liabilities": ["inpatient_top_up", "chronic"],
                         "amount": "12000"}],
    }
    plan = plan_from_dict(data)
    assert validate_plan(plan) == []
    records = [
        SettlementRecord("A", "P1", date(2027, 3, 31), "inpatient", inscp_scp_amt=D("7000")),  # 5,000 x 50 %
        SettlementRecord("B", "P1", date(2027, 4, 1), "inpatient", inscp_scp_amt=D("5000")),  # 5,000 x 60 %
        SettlementRecord("C", "P1", date(2027, 5, 1), "special_outpatient", psn_cash_pay=D("30000")),
        SettlementRecord("D", "P2", date(2027, 5, 1), "inpatient", inscp_scp_amt=D("13000")),
    ]
    persons = {"P1": PersonAttributes(), "P2": PersonAttributes(employment="retired")}
    results = evaluate(plan, persons, records).results
    # C: 9,000 raw, but only 12,000 - 5,500 is left of the shared cap. D: 5,000 + 2,000.
    assert [r.payable for r in results] == [D("2500.00"), D("3000.00"), D("6500.00"), D("7000.00")]


def _code_without_docs(path: Path) -> str:
    """Source code minus comments and docstrings (which may quote examples)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body[0] = ast.Pass()
    return ast.unparse(tree)


def test_engine_source_has_no_contract_specific_code_and_no_django() -> None:
    package = Path(engine_package.__file__).parent
    rules = Path(benefit_rules_package.__file__).parent  # the plan document, read by the engine
    contract_words = re.compile(
        r"tongliao|taikang|zhenping|beijing|critical_illness|accident_basic|supplementary|in_catalog|"
        r"out_of_catalog|special_drug_1|in_region|out_of_region|province_referral|remote_resident|sd1_|\"3A\"|"
        r"14000|7000|30404|380000"
    )
    for path in (package / "core.py", package / "compiled.py", rules / "plan.py", rules / "plan_dict.py",
                 rules / "validation.py", package / "explain.py", package / "io.py"):
        assert not contract_words.search(_code_without_docs(path)), path.name
    for path in [*package.glob("*.py"), *rules.glob("*.py")]:
        assert not re.search(r"^\s*(from|import) django", path.read_text(), re.M), path.name


# --------------------------------------------------------------------------- generic behaviour


def test_inputs_are_not_modified_and_batches_chain() -> None:
    plan = PLANS["tongliao-2025"]
    persons = {"P1": PersonAttributes(), "P2": PersonAttributes(category="special")}
    records = [tl_record(1, "22000"), tl_record(2, "40000", psn="P2"), tl_record(3, "40000"),
               tl_record(4, "500000", psn="P2"), tl_record(5, "500000")]
    whole = evaluate(plan, persons, records)
    first = evaluate(plan, persons, records[:2])
    snapshot = (dict(first.accumulators.base), dict(first.accumulators.paid))
    second = evaluate(plan, persons, records[2:], first.accumulators)
    assert (dict(first.accumulators.base), dict(first.accumulators.paid)) == snapshot
    assert [r.payable for r in [*first.results, *second.results]] == [r.payable for r in whole.results]
    assert second.accumulators == whole.accumulators


def test_evaluator_fed_in_chunks_equals_one_call() -> None:
    plan = PLANS["tongliao-2025"]
    persons = {"P1": PersonAttributes(), "P2": PersonAttributes(category="special")}
    records = [tl_record(i, str(9000 * i), psn=f"P{1 + i % 2}") for i in range(1, 30)]
    evaluator = Evaluator(plan, persons)
    chunked = [r for start in range(0, len(records), 7) for r in evaluator.run(records[start:start + 7])]
    whole = evaluate(plan, persons, records)
    assert chunked == list(whole.results)
    assert evaluator.accumulators() == whole.accumulators
    assert whole.results.payables == [r.payable for r in whole.results]
    assert whole.results[1:3] == [whole.results[1], whole.results[2]]


def test_fast_path_builds_no_explanation_and_explained_path_agrees() -> None:
    plan = PLANS["tongliao-2025"]
    persons = {"P1": PersonAttributes()}
    records = [tl_record(1, "22000"), tl_record(2, "40000"), tl_record(3, "9000000")]
    fast = evaluate(plan, persons, records)
    slow = evaluate(plan, persons, records, explain=True)
    assert all(r.explanation is None for r in fast.results)
    assert [(r.payable, dict(r.by_liability)) for r in fast.results] == [
        (r.payable, dict(r.by_liability)) for r in slow.results
    ]
    assert fast.accumulators == slow.accumulators


def test_explanation_of_the_worked_example_lists_every_step() -> None:
    plan = PLANS["tongliao-2025"]
    first = SettlementRecord("S1", "P1", date(2025, 3, 2), "inpatient", place="in_region",
                             inscp_scp_amt=D("52000.00"), hifp_pay=D("30000.00"))
    result, accumulators = evaluate_one(plan, PersonAttributes(), first)
    second, _ = evaluate_one(plan, PersonAttributes(), tl_record(2, "40000.00"), accumulators)
    steps = explanation_steps(second.explanation)  # type: ignore[arg-type]
    assert [s["step"] for s in steps] == ["base", "deductible", "band", "band", "band", "rounding", "cap", "payable"]
    assert steps[0]["liability_name"] == "大病保险"
    assert steps[1] == {"step": "deductible", "liability": "critical_illness", "amount": "14000.00",
                        "cum_base_before": "22000.00", "cum_base_after": "62000.00"}
    assert [(s["from"], s["to"], s["rate"], s["amount"]) for s in steps[2:5]] == [
        ("22000.00", "30000.00", "0.60", "4800.00"),
        ("30000.00", "50000.00", "0.70", "14000.00"),
        ("50000.00", "62000.00", "0.80", "9600.00"),
    ]
    assert steps[5] == {"step": "rounding", "liability": "critical_illness", "raw": "28400.00", "amount": "28400.00"}
    assert steps[-1] == {"step": "payable", "liability": "critical_illness", "amount": "28400.00",
                         "cum_paid_before": "4800.00", "cum_paid_after": "33200.00", "remaining": "346800.00"}


def test_explanation_shows_unrounded_raw_amount() -> None:
    record = SettlementRecord("S1", "P1", date(2025, 6, 1), "inpatient", place="local", hosp_lv="2",
                              over_cap_amt=D("0.10"))
    result, _ = evaluate_one(PLANS["taikang-2025"], PersonAttributes(), record)
    steps = {s["step"]: s for s in explanation_steps(result.explanation)}  # type: ignore[arg-type]
    assert (steps["band"]["amount"], steps["rounding"]["raw"], steps["rounding"]["amount"]) == ("0.085", "0.085", "0.09")


def test_unknown_person_is_refused() -> None:
    with pytest.raises(EngineInputError, match="psn_no 'P9' not in persons"):
        evaluate(PLANS["tongliao-2025"], {}, [tl_record(1, "1", psn="P9")])


def test_starting_accumulators_above_a_lowered_cap_never_pay_negative() -> None:
    start = Accumulators.of(paid={("P1", "critical_illness"): D("400000.00")})
    result = evaluate(PLANS["tongliao-2025"], {"P1": PersonAttributes()}, [tl_record(1, "90000")], start)
    assert result.results[0].payable == D("0.00")


def test_compiled_plans_survive_pickling() -> None:
    plan = copy.deepcopy(PLANS["zhenping-2026"])
    evaluate(plan, {"P1": PersonAttributes()}, [])  # memoises the compiled form on the plan
    clone = pickle.loads(pickle.dumps(plan))
    assert clone == plan and "_compiled" not in clone.__dict__


def test_paid_in_run_equals_the_records_payables_summed_per_person_and_liability() -> None:
    """The simulation reads each person's and each liability's payouts from the running
    totals: they equal summing every record's payable, and exclude the starting totals."""
    plan = PLANS["tongliao-2025"]
    persons = {"P1": PersonAttributes(), "P2": PersonAttributes(category="special"), "P3": PersonAttributes()}
    records = [tl_record(i, str(9000 * i), psn=f"P{1 + i % 2}") for i in range(1, 30)]
    records.append(tl_record(30, "100", psn="P3"))  # under the deductible: pays nothing
    start = evaluate(plan, persons, records[:4]).accumulators
    evaluator = Evaluator(plan, persons, start)
    results = [r for begin in range(4, len(records), 5) for r in evaluator.run(records[begin:begin + 5])]
    per_person, per_code = evaluator.paid_in_run()
    expected_person: dict[str, Decimal] = {}
    expected_code: dict[str, Decimal] = {}
    for r in results:
        if r.payable:
            expected_person[r.psn_no] = expected_person.get(r.psn_no, D("0")) + r.payable
        for code, amount in r.by_liability.items():
            expected_code[code] = expected_code.get(code, D("0")) + amount
    assert per_person == expected_person and set(per_person) == {"P1", "P2"}
    assert per_code == expected_code
    assert sum(per_person.values()) == sum(r.payable for r in results) > 0

"""The trial-calculation JSON interface (DOMAIN.md §4.5): parsing, messages, output format."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from claims.engine import (
    Accumulators,
    TrialInputError,
    UnknownProgram,
    evaluate,
    parse_trial_input,
    run_trial,
    seed_plans,
    serialise_trial_output,
)
from claims.engine.__main__ import main

PLANS = seed_plans()
D = Decimal

EXAMPLE = """
{"persons": [{"psn_no": "P1", "category": "ordinary", "employment": "active",
              "health": "healthy", "continuous_no_claim_3y": false, "student": false}],
 "settlements": [{"setl_id": "S1", "psn_no": "P1", "enddate": "2025-03-02",
                  "claim_kind": "inpatient", "place": "in_region", "hosp_lv": "2",
                  "inscp_scp_amt": "52000.00", "hifp_pay": "30000.00"}]}
"""


def doc(*settlements: dict[str, Any], persons: list[dict[str, Any]] | None = None) -> str:
    return json.dumps({"persons": persons if persons is not None else [{"psn_no": "P1"}],
                       "settlements": list(settlements)})


def tl(**fields: Any) -> dict[str, Any]:
    base = {"setl_id": "S1", "psn_no": "P1", "enddate": "2025-03-02", "claim_kind": "inpatient",
            "place": "in_region", "inscp_scp_amt": "52000.00", "hifp_pay": "30000.00"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def trial(text: str, code: str = "tongliao-2025", **kw: Any) -> dict[str, Any]:
    return json.loads(run_trial(code, text, PLANS, **kw))


def refused(text: str, code: str = "tongliao-2025") -> str:
    with pytest.raises(TrialInputError) as excinfo:
        run_trial(code, text, PLANS)
    return str(excinfo.value)


# --------------------------------------------------------------------------- happy path


def test_domain_example_output() -> None:
    out = trial(EXAMPLE)
    assert out["program"] == "tongliao-2025"
    [result] = out["results"]
    assert (result["setl_id"], result["payable"], result["by_liability"]) == (
        "S1", "4800.00", {"critical_illness": "4800.00"}
    )
    steps = result["explanation"]
    assert steps[0]["step"] == "base" and steps[0]["liability_name"] == "大病保险"
    assert {"step": "band", "liability": "critical_illness", "from": "14000.00", "to": "22000.00",
            "rate": "0.60", "amount": "4800.00"} in steps


def test_output_text_keeps_chinese_and_two_decimal_strings() -> None:
    text = run_trial("tongliao-2025", EXAMPLE, PLANS)
    assert '"liability_name": "大病保险"' in text
    assert '"payable": "4800.00"' in text


def test_missing_person_attributes_take_the_first_glossary_value() -> None:
    explicit = trial(EXAMPLE)
    implicit = trial(doc(tl(hosp_lv="2")))
    assert implicit == explicit


def test_amounts_as_json_numbers_are_parsed_exactly() -> None:
    text = doc(tl(inscp_scp_amt="N1", hifp_pay="N2")).replace('"N1"', "52000.1").replace('"N2"', "30000")
    out = trial(text)
    assert out["results"][0]["payable"] == "4800.06"  # 22,000.10: 8,000.10 x 60 % = 4,800.06
    exact = parse_trial_input(text, PLANS["tongliao-2025"]).records[0]
    assert (exact.inscp_scp_amt, exact.hifp_pay) == (D("52000.10"), D("30000.00"))


def test_zero_paying_liabilities_are_omitted_and_every_amount_has_two_decimals() -> None:
    out = trial(doc(tl(inscp_scp_amt="100", hifp_pay="0")))
    result = out["results"][0]
    assert (result["payable"], result["by_liability"]) == ("0.00", {})
    for step in result["explanation"]:
        for key in ("amount", "cum_base_before", "cum_base_after", "paid_before", "left"):
            if isinstance(step.get(key), str):
                assert len(step[key].split(".")[1]) == 2, step


def test_streamed_output_is_exactly_json_dumps_of_the_whole_document() -> None:
    settlements = [tl(setl_id=f"S{i}", inscp_scp_amt=str(30000 + 1000 * i), claim_kind=kind)
                   for i, kind in enumerate(["inpatient", "accident_inpatient", "special_outpatient"] * 20)]
    settlements.append(tl(setl_id="late", enddate="2026-01-01"))
    text = doc(*settlements, persons=[{"psn_no": "P1", "category": "special"}])
    trial_input = parse_trial_input(text, PLANS["tongliao-2025"])
    evaluation = evaluate(PLANS["tongliao-2025"], trial_input.persons, trial_input.records, explain=True)
    assert run_trial("tongliao-2025", text, PLANS) == serialise_trial_output("tongliao-2025", evaluation.results)
    assert run_trial("tongliao-2025", doc(), PLANS) == '{"program": "tongliao-2025", "results": []}'


def test_several_liabilities_in_one_record() -> None:
    out = trial(doc(tl(claim_kind="accident_inpatient")))
    assert out["results"][0]["by_liability"] == {"critical_illness": "4800.00", "accident_basic": "30000.00"}
    assert out["results"][0]["payable"] == "34800.00"


def test_record_outside_the_year_is_explained() -> None:
    out = trial(doc(tl(enddate="2024-12-31")))
    assert out["results"][0]["payable"] == "0.00"
    assert out["results"][0]["explanation"] == [{
        "step": "outside_plan",
        "reason": "enddate 2024-12-31 is outside the plan period 2025-01-01..2025-12-31 of tongliao-2025: "
                  "nothing is payable",
    }]


def test_uncovered_liability_is_explained_with_its_chinese_name() -> None:
    text = doc({"setl_id": "S1", "psn_no": "P1", "enddate": "2025-03-02",
                "claim_kind": "student_accident_outpatient", "inscp_scp_amt": "100"})
    step = trial(text)["results"][0]["explanation"][0]
    assert step == {"step": "not_covered", "liability": "student_accident_outpatient",
                    "liability_name": "学生意外伤害门诊", "reason": "not covered: student must be true (is false)"}


def test_trial_can_start_from_persisted_accumulators_without_changing_them() -> None:
    start = Accumulators.of(base={("P1", "critical_illness"): D("22000.00")},
                            paid={("P1", "critical_illness"): D("4800.00")})
    out = trial(doc(tl(inscp_scp_amt="40000.00", hifp_pay="0")), accumulators=start)
    assert out["results"][0]["payable"] == "28400.00"
    assert start.paid[("P1", "critical_illness")] == D("4800.00")


def test_beijing_items_and_special_drugs() -> None:
    text = doc(
        {"setl_id": "S1", "psn_no": "P1", "enddate": "2026-03-02", "claim_kind": "inpatient", "hosp_lv": "2",
         "fulamt_ownpay_amt": "515000", "items": [{"code": "D1", "type": "drug", "amount": "500000"}]},
        {"setl_id": "S2", "psn_no": "P1", "enddate": "2026-04-02", "claim_kind": "special_drug",
         "drug_list": "sd1_overseas", "designated": True, "drug_amount": "1000"},
    )
    results = trial(text, "beijing-chaoyang-2026")["results"]
    # 15,000 non-itemised meets the deductible; the drug counts 428,571.43 -> 300,000.00.
    assert results[0]["by_liability"] == {"out_of_catalog": "300000.00"}
    assert results[1]["by_liability"] == {"special_drug_1": "650.00"}


def test_hosp_lv_may_be_a_number() -> None:
    record = parse_trial_input(doc(tl(hosp_lv=2)), PLANS["tongliao-2025"]).records[0]
    assert record.hosp_lv == "2"


# --------------------------------------------------------------------------- refusals


def test_unknown_program() -> None:
    with pytest.raises(UnknownProgram) as excinfo:
        run_trial("nope-2025", EXAMPLE, PLANS)
    assert str(excinfo.value) == (
        'unknown program "nope-2025" (known: beijing-chaoyang-2026, taikang-2025, tongliao-2025, zhenping-2026)'
    )
    assert isinstance(excinfo.value, TrialInputError)


def test_malformed_amount_names_record_and_field() -> None:
    text = doc(tl(setl_id="S1"), tl(setl_id="S2"), tl(setl_id="S3", inscp_scp_amt="12,3a"))
    assert refused(text) == 'settlement S3 (index 2): field inscp_scp_amt: malformed amount "12,3a"'


@pytest.mark.parametrize(("value", "message"), [
    ('"1.234"', 'more than two decimals "1.234"'),
    ("1.234", "more than two decimals 1.234"),
    ('"-5.00"', 'negative amount "-5.00"'),
    ("-5", "negative amount -5"),
    ("true", "malformed amount true (expected a string or number)"),
    ('"1e5"', 'malformed amount "1e5"'),
    ('"１２"', 'malformed amount "１２"'),
    ('"12."', 'malformed amount "12."'),
    ('"1234567890123"', 'amount "1234567890123" too large'),
])
def test_amount_refusals(value: str, message: str) -> None:
    text = doc(tl(hifp_pay="X")).replace('"X"', value)
    assert refused(text) == f"settlement S1 (index 0): field hifp_pay: {message}"


def test_unknown_place_names_record_and_field() -> None:
    assert refused(doc(tl(place="abroad"))) == (
        'settlement S1 (index 0): field place: unknown code "abroad" (expected one of in_region, out_of_region)'
    )
    # A glossary place of another program is unknown to this one.
    assert refused(doc(tl(place="local"))) == (
        'settlement S1 (index 0): field place: unknown code "local" (expected one of in_region, out_of_region)'
    )


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("claim_kind", "dental", "inpatient, outpatient, special_outpatient, accident_inpatient, "
                             "student_accident_outpatient, special_drug"),
    ("hosp_lv", "3B", "1, 2, 3, 3A"),
    ("drug_list", "sd3", "sd1_domestic, sd1_overseas, sd2"),
])
def test_unknown_record_codes(field: str, value: str, allowed: str) -> None:
    assert refused(doc(tl(**{field: value}))) == (
        f'settlement S1 (index 0): field {field}: unknown code "{value}" (expected one of {allowed})'
    )


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("category", "vip", "ordinary, special"),
    ("employment", "student", "active, retired"),
    ("health", "sick", "healthy, preexisting"),
])
def test_unknown_person_codes(field: str, value: str, allowed: str) -> None:
    text = doc(tl(), persons=[{"psn_no": "P1", field: value}])
    assert refused(text) == f'person P1 (index 0): field {field}: unknown code "{value}" (expected one of {allowed})'


def test_missing_psn_no() -> None:
    assert refused(doc(tl(setl_id=..., psn_no=...))) == "settlement index 0: missing field psn_no"
    assert refused(doc(tl(psn_no=...))) == "settlement S1 (index 0): missing field psn_no"


def test_person_not_in_persons() -> None:
    assert refused(doc(tl(psn_no="P9"))) == 'settlement S1 (index 0): field psn_no: "P9" not in persons'


@pytest.mark.parametrize(("text", "message"), [
    ("{", "input: invalid JSON (line 1, column 2): Expecting property name enclosed in double quotes"),
    ("[]", "input: expected an object with the fields persons and settlements"),
    ('{"persons": []}', "input: missing field settlements"),
    ('{"persons": {}, "settlements": []}', "input: field persons: expected a list"),
    ('{"persons": [], "settlements": [], "extra": 1}', "input: unknown field extra"),
    ('{"persons": [], "settlements": [{"inscp_scp_amt": NaN}]}', "input: invalid JSON: NaN is not an amount"),
])
def test_document_level_refusals(text: str, message: str) -> None:
    assert refused(text) == message


@pytest.mark.parametrize(("fields", "message"), [
    ({"enddate": "2025-02-30"}, 'field enddate: malformed date "2025-02-30" (expected YYYY-MM-DD)'),
    ({"enddate": "20250302"}, 'field enddate: malformed date "20250302" (expected YYYY-MM-DD)'),
    ({"place": ...}, "missing field place (required by tongliao-2025 for claim_kind inpatient)"),
    ({"designated": "yes"}, 'field designated: expected true or false, got "yes"'),
    ({"inscp_scp_amnt": "1"}, "unknown field inscp_scp_amnt"),
])
def test_record_level_refusals(fields: dict[str, Any], message: str) -> None:
    assert refused(doc(tl(**fields))) == f"settlement S1 (index 0): {message}"


def test_duplicate_ids_are_refused() -> None:
    assert refused(doc(tl(), tl())) == 'settlement S1 (index 1): field setl_id: duplicate "S1" (first at index 0)'
    persons = [{"psn_no": "P1"}, {"psn_no": "P1"}]
    assert refused(doc(tl(), persons=persons)) == 'person P1 (index 1): field psn_no: duplicate "P1"'


def test_items_are_checked() -> None:
    base = {"setl_id": "S1", "psn_no": "P1", "enddate": "2026-03-02", "claim_kind": "inpatient", "hosp_lv": "2",
            "fulamt_ownpay_amt": "100"}
    bad_amount = doc({**base, "items": [{"code": "D1", "type": "drug", "amount": "1,0"}]})
    assert refused(bad_amount, "beijing-chaoyang-2026") == (
        'settlement S1 (index 0): field items[0].amount: malformed amount "1,0"'
    )
    bad_type = doc({**base, "items": [{"code": "D1", "type": "pill", "amount": "10"}]})
    assert refused(bad_type, "beijing-chaoyang-2026") == (
        'settlement S1 (index 0): field items[0].type: unknown code "pill" (expected one of drug, implant)'
    )
    too_much = doc({**base, "items": [{"code": "D1", "type": "drug", "amount": "60"},
                                      {"code": "D2", "type": "implant", "amount": "50"}]})
    assert refused(too_much, "beijing-chaoyang-2026") == (
        "settlement S1 (index 0): field items: item amounts total 110.00 exceed fulamt_ownpay_amt 100.00"
    )


def test_special_drug_needs_designated_and_drug_list() -> None:
    text = doc({"setl_id": "S1", "psn_no": "P1", "enddate": "2026-03-02", "claim_kind": "special_drug",
                "drug_list": "sd2", "drug_amount": "100"})
    assert refused(text, "beijing-chaoyang-2026") == (
        "settlement S1 (index 0): missing field designated "
        "(required by beijing-chaoyang-2026 for claim_kind special_drug)"
    )


def test_parse_returns_engine_inputs() -> None:
    trial_input = parse_trial_input(EXAMPLE, PLANS["tongliao-2025"])
    [record] = trial_input.records
    assert (record.setl_id, record.inscp_scp_amt, record.hifp_pay, record.hosp_lv) == (
        "S1", D("52000.00"), D("30000.00"), "2"
    )
    assert trial_input.persons["P1"].category == "ordinary"


# --------------------------------------------------------------------------- command line


def test_command_line_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "in.json"
    good.write_text(EXAMPLE, encoding="utf-8")
    assert main(["--program", "tongliao-2025", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["payable"] == "4800.00"
    assert main(["--program", "nope", str(good)]) == 2
    assert 'unknown program "nope"' in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(doc(tl(inscp_scp_amt="12,3a")), encoding="utf-8")
    assert main(["--program", "tongliao-2025", str(bad)]) == 2
    assert capsys.readouterr().err == (
        'error: settlement S1 (index 0): field inscp_scp_amt: malformed amount "12,3a"\n'
    )

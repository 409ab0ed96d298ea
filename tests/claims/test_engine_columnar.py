"""The columnar engine (`claims.engine.columnar`, numpy in integer fen, one record of every
person at a time) gives, record by record, what `Evaluator` gives: every payable, every
person's total per liability to the fen, and the same persons at a cap — over random persons
and years of every seed plan (shared caps and per-item caps included), over rates with four
decimals, and with caps that change between a person's records.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.engine import (
    Evaluator,
    ItemLine,
    PersonAttributes,
    SettlementRecord,
    compile_plan,
    plan_from_dict,
)
from claims.engine.columnar import KEY_FIELDS, Columns, Unsupported, evaluate_columns, fen
from programs.benefit_rules.glossary import AMOUNT_FIELDS
from programs.benefit_rules.seed_plans import SEED_PLAN_DICTS
from tests.claims.test_engine_properties import persons

D = Decimal
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = sorted(SEED_PLAN_DICTS)


def _four_decimals(doc: dict) -> dict:
    """The plan with every band's rate moved by 0.0125 (four decimals), within 0..1."""
    doc = copy.deepcopy(doc)
    for li in doc["liabilities"]:
        for row in li.get("schedule", []):
            for band in row.get("bands", []):
                if not isinstance(band["rate"], dict):
                    rate = D(str(band["rate"]))
                    band["rate"] = str(rate + D("0.0125") if rate <= D("0.9875") else rate - D("0.0125"))
    return doc


def _cap_by_level(doc: dict) -> dict:
    """The plan with each liability's caps chosen by the record's hospital level (a person's cap
    can change from one record to the next), low shared caps and low per-item caps: every kind
    of cap is reached often."""
    doc = copy.deepcopy(doc)
    for li in doc["liabilities"]:
        li["caps"] = [{"when": {"hosp_lv": ["3", "3A"]}, "amount": "20000"}, {"amount": "50000"}]
        for item_cap in li.get("item_caps", []):
            item_cap["amount"] = "1500"
    for shared in doc.get("shared_caps", []):
        shared["amount"] = "30000"
    return doc


PLANS = {code: plan_from_dict(SEED_PLAN_DICTS[code]) for code in SEEDS}
PLANS.update({f"{code}+4dp": plan_from_dict(_four_decimals(SEED_PLAN_DICTS[code])) for code in SEEDS})
PLANS.update({f"{code}+caps": plan_from_dict(_cap_by_level(SEED_PLAN_DICTS[code])) for code in SEEDS})

persons_st = persons  # the engine property tests' random persons
cents = st.one_of(st.integers(0, 2_000_00), st.integers(0, 80_000_00), st.integers(0, 900_000_00))


@st.composite
def years(draw: st.DrawFn, plan) -> tuple[list[PersonAttributes], list[SettlementRecord]]:
    """Up to 6 persons and up to 40 records, each person's records together and in order;
    discharge dates around the plan's period and rule dates (some outside the period)."""
    persons = draw(st.lists(persons_st, min_size=1, max_size=6))
    kinds = sorted({k for li in plan.liabilities for k in li.claim_kinds} | {"outpatient"})
    start = plan.period_start - timedelta(days=3)
    span = (plan.period_end - plan.period_start).days + 6
    records = []
    for i in sorted(draw(st.lists(st.integers(0, len(persons) - 1), min_size=1, max_size=40))):
        fields = {f: D(draw(cents)) / 100 for f in AMOUNT_FIELDS}
        lines = draw(st.lists(st.tuples(st.sampled_from(["D1", "D2", "I1", "X"]), cents), max_size=3))
        fields["items"] = tuple(ItemLine(code, {"D": "drug", "I": "implant"}.get(code[0], "other"), D(c) / 100)
                                for code, c in lines)
        # the self-paid amount holds the item lines (as on a real settlement)
        fields["fulamt_ownpay_amt"] += sum((line.amount for line in fields["items"]), D(0))
        records.append(SettlementRecord(
            setl_id=f"S{len(records)}", psn_no=str(i),
            enddate=draw(st.one_of(st.integers(0, span), st.sampled_from([3, 3 + 180, 3 + 181, span - 3])).map(
                lambda d: start + timedelta(days=d))),
            claim_kind=draw(st.sampled_from(kinds)),
            place=draw(st.sampled_from([*(plan.places or ()), None])),
            hosp_lv=draw(st.sampled_from(["1", "2", "3", "3A", None])),
            designated=draw(st.sampled_from([True, False, None])),
            drug_list=draw(st.sampled_from(["sd1_domestic", "sd2", None])),
            **fields,
        ))
    records.sort(key=lambda r: (int(r.psn_no), r.enddate))
    return persons, records


def _columns(persons: list[PersonAttributes], records: list[SettlementRecord]) -> Columns:
    keys: dict[tuple, int] = {}
    key = [keys.setdefault(tuple(getattr(r, f) for f in KEY_FIELDS), len(keys)) for r in records]
    return Columns(
        person=np.array([int(r.psn_no) for r in records], dtype=np.int64),
        persons=persons,
        enddate=np.array([r.enddate.toordinal() for r in records], dtype=np.int64),
        key=np.array(key, dtype=np.int64),
        keys=list(keys),
        amounts={f: np.array([int(getattr(r, f) * 100) for r in records], dtype=np.int64) for f in AMOUNT_FIELDS},
        items={i: tuple((line.code, line.item_type, int(line.amount * 100)) for line in r.items)
               for i, r in enumerate(records) if r.items},
    )


def _by_record(plan, persons, records):
    evaluator = Evaluator(plan, {str(i): p for i, p in enumerate(persons)})
    batch = evaluator.run(records)
    return batch, set(evaluator.persons_at_cap())


def _fen(amount: Decimal) -> int:
    return int(amount * 100)


@pytest.mark.parametrize("code", sorted(PLANS))
def test_columns_pay_what_the_record_engine_pays_to_the_fen(code):
    plan = PLANS[code]
    cp = compile_plan(plan)

    @SETTINGS
    @given(years(plan))
    def check(year):
        persons, records = year
        batch, at_cap = _by_record(plan, persons, records)
        result = evaluate_columns(cp, _columns(persons, records))
        assert result.payable.tolist() == [_fen(p) for p in batch.payables]
        for li in plan.liabilities:
            expected = [0] * len(persons)
            for record, by in zip(records, batch.by_liability, strict=True):
                expected[int(record.psn_no)] += _fen(by.get(li.code, D(0)))
            got = result.by_liability[li.code].tolist() if li.code in result.by_liability else [0] * len(persons)
            assert got == expected, li.code
        assert {str(i) for i in np.flatnonzero(result.capped)} == at_cap

    check()


def test_an_amount_with_more_than_two_decimals_is_refused():
    assert fen(D("80000.05")) == 8_000_005 and fen(D("-0.10")) == -10
    with pytest.raises(Unsupported):
        fen(D("80000.005"))


def test_a_persons_rows_apart_are_refused():
    plan = PLANS[SEEDS[0]]
    kind = plan.liabilities[0].claim_kinds[0]
    records = [SettlementRecord(f"S{n}", psn, date(plan.year, 3, 1), kind) for n, psn in enumerate("010")]
    with pytest.raises(ValueError, match="contiguous"):
        evaluate_columns(compile_plan(plan), _columns([PersonAttributes()] * 2, records))

"""The columnar engine (`claims.engine.columnar`, numpy in integer fen) gives, record by
record, what `Evaluator` gives: every payable and every liability's share to the fen, and the
same persons at a cap — over random persons and years of the seed plans it supports, over rates
with four decimals, and with a cap that changes between a person's records (then the person is
reported unsupported and pays nothing there, for the caller to evaluate record by record).
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
    PersonAttributes,
    SettlementRecord,
    compile_plan,
    plan_from_dict,
)
from claims.engine.columnar import KEY_FIELDS, Columns, Unsupported, evaluate_columns, supported
from programs.benefit_rules.glossary import AMOUNT_FIELDS
from programs.benefit_rules.seed_plans import SEED_PLAN_DICTS

D = Decimal
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COLUMNAR = sorted(code for code, doc in SEED_PLAN_DICTS.items() if supported(compile_plan(plan_from_dict(doc))))


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
    """The plan with each liability's caps chosen by the record's hospital level: a person's cap
    can change from one record to the next."""
    doc = copy.deepcopy(doc)
    for li in doc["liabilities"]:
        li["caps"] = [{"when": {"hosp_lv": ["3", "3A"]}, "amount": "20000"}, {"amount": "50000"}]
    return doc


PLANS = {code: plan_from_dict(SEED_PLAN_DICTS[code]) for code in COLUMNAR}
PLANS.update({f"{code}+4dp": plan_from_dict(_four_decimals(SEED_PLAN_DICTS[code])) for code in COLUMNAR})
VARYING = {code: plan_from_dict(_cap_by_level(SEED_PLAN_DICTS[code])) for code in COLUMNAR}

persons_st = st.builds(
    PersonAttributes,
    category=st.sampled_from(["ordinary", "special"]),
    employment=st.sampled_from(["active", "retired"]),
    health=st.sampled_from(["healthy", "preexisting"]),
    continuous_no_claim_3y=st.booleans(),
    student=st.booleans(),
)
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
    for i in sorted(draw(st.lists(st.integers(0, len(persons) - 1), max_size=40))):
        fields = {f: D(draw(cents)) / 100 for f in AMOUNT_FIELDS}
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
        assert not result.unsupported.any()
        assert result.payable.tolist() == [_fen(p) for p in batch.payables]
        for li in plan.liabilities:
            expected = [0] * len(persons)
            for record, by in zip(records, batch.by_liability, strict=True):
                expected[int(record.psn_no)] += _fen(by.get(li.code, D(0)))
            got = result.by_liability[li.code].tolist() if li.code in result.by_liability else [0] * len(persons)
            assert got == expected, li.code
        assert {str(i) for i in np.flatnonzero(result.capped)} == at_cap

    check()


@pytest.mark.parametrize("code", sorted(VARYING))
def test_a_cap_that_changes_between_a_persons_records_leaves_that_person_to_the_record_engine(code):
    plan = VARYING[code]
    cp = compile_plan(plan)

    @SETTINGS
    @given(years(plan))
    def check(year):
        persons, records = year
        batch, at_cap = _by_record(plan, persons, records)
        result = evaluate_columns(cp, _columns(persons, records))
        for row, record in enumerate(records):
            i = int(record.psn_no)
            if result.unsupported[i]:
                assert result.payable[row] == 0
            else:
                assert result.payable[row] == _fen(batch.payables[row])
        supported_capped = {str(i) for i in np.flatnonzero(result.capped)}
        assert supported_capped == {p for p in at_cap if not result.unsupported[int(p)]}

    check()


def test_a_person_whose_cap_changes_is_reported_unsupported():
    plan = VARYING[COLUMNAR[0]]
    kind = plan.liabilities[0].claim_kinds[0]
    doc = SEED_PLAN_DICTS[COLUMNAR[0]]
    place = (doc.get("places") or [None])[0]
    day = plan.period_start + timedelta(days=200)
    records = [SettlementRecord(f"S{n}", "0", day + timedelta(days=n), kind, place, level, True, None,
                                **{**{f: D("90000.00") for f in AMOUNT_FIELDS}, "hifp_pay": D("0")})
               for n, level in enumerate(["1", "3"])]
    persons = [PersonAttributes(category="special")]
    result = evaluate_columns(compile_plan(plan), _columns(persons, records))
    assert result.unsupported.tolist() == [True]
    assert result.payable.tolist() == [0, 0]
    # the same person with one cap throughout is evaluated
    same = [r._replace(hosp_lv="1") for r in records]
    result = evaluate_columns(compile_plan(plan), _columns(persons, same))
    assert result.unsupported.tolist() == [False]
    batch, _ = _by_record(plan, persons, same)
    assert result.payable.tolist() == [_fen(p) for p in batch.payables]


def test_plans_with_shared_or_item_caps_are_refused():
    refused = [code for code in SEED_PLAN_DICTS if code not in COLUMNAR]
    assert refused, "a seed plan with shared or per-item caps exists (Beijing)"
    cp = compile_plan(plan_from_dict(SEED_PLAN_DICTS[refused[0]]))
    assert not supported(cp)
    with pytest.raises(Unsupported):
        evaluate_columns(cp, _columns([PersonAttributes()], []))


def test_a_persons_rows_apart_are_refused():
    plan = PLANS[COLUMNAR[0]]
    kind = plan.liabilities[0].claim_kinds[0]
    records = [SettlementRecord(f"S{n}", psn, date(plan.year, 3, 1), kind) for n, psn in enumerate("010")]
    with pytest.raises(ValueError, match="contiguous"):
        evaluate_columns(compile_plan(plan), _columns([PersonAttributes()] * 2, records))

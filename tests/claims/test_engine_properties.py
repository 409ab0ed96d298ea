"""Properties of the engine over random persons and record sequences (hypothesis).

- payable is never negative and equals the sum of its liabilities;
- cumulative paid never exceeds any cap (liability caps, shared caps);
- splitting one record into two consecutive ones changes what is paid by at most 0.01 per
  liability (rounding happens once per record and liability);
- raising a rate never lowers a person's total for the year;
- the explained path computes exactly what the fast path computes.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.engine import (
    Accumulators,
    ItemLine,
    PersonAttributes,
    Plan,
    SettlementRecord,
    evaluate,
    plan_from_dict,
    seed_plans,
)
from programs.benefit_rules.seed_plans import SEED_PLAN_DICTS

D = Decimal
CENT = D("0.01")
PLANS = seed_plans()
CODES = sorted(PLANS)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

persons = st.builds(
    PersonAttributes,
    category=st.sampled_from(["ordinary", "special"]),
    employment=st.sampled_from(["active", "retired"]),
    health=st.sampled_from(["healthy", "preexisting"]),
    continuous_no_claim_3y=st.booleans(),
    student=st.booleans(),
)


def cents(max_yuan: int) -> st.SearchStrategy[Decimal]:
    """Amounts with two decimals; small values are frequent so deductibles and bands are crossed."""
    return st.one_of(
        st.integers(0, 100 * 100),
        st.integers(0, 60_000 * 100),
        st.integers(0, max_yuan * 100),
    ).map(lambda c: D(c) / 100)


@st.composite
def parts(draw: st.DrawFn, code: str, max_yuan: int = 300_000) -> dict[str, Any]:
    """Fields of one record with every liability base non-negative (so parts add up)."""
    plan = PLANS[code]
    kinds = sorted({k for li in plan.liabilities for k in li.claim_kinds})
    kind = draw(st.sampled_from(kinds))
    fields: dict[str, Any] = {"claim_kind": kind, "hosp_lv": draw(st.sampled_from(["1", "2", "3", "3A"]))}
    if plan.places:
        fields["place"] = draw(st.sampled_from(plan.places))
    if kind == "special_drug":
        fields["drug_list"] = draw(st.sampled_from(["sd1_domestic", "sd1_overseas", "sd2"]))
        fields["designated"] = draw(st.booleans().filter(bool) | st.booleans())
    hifp, hifmi, base, pre = draw(cents(max_yuan)), draw(cents(50_000)), draw(cents(max_yuan)), draw(cents(5_000))
    pre = min(pre, base)
    fields.update(
        hifp_pay=hifp, hifmi_pay=hifmi, preselfpay_amt=pre, inscp_scp_amt=hifp + hifmi + base - pre,
        over_cap_amt=draw(cents(max_yuan)), drug_amount=draw(cents(max_yuan)),
    )
    items = draw(st.lists(st.tuples(st.sampled_from(["D1", "D2", "I1"]), cents(max_yuan)), max_size=2))
    fields["items"] = tuple(ItemLine(c, "implant" if c.startswith("I") else "drug", a) for c, a in items)
    fields["fulamt_ownpay_amt"] = draw(cents(max_yuan)) + sum((a for _, a in items), D(0))
    return fields


def record(n: int, fields: dict[str, Any], enddate: date) -> SettlementRecord:
    return SettlementRecord(setl_id=f"S{n}", psn_no="P1", enddate=enddate, **fields)


@st.composite
def scenarios(draw: st.DrawFn, max_records: int = 6) -> tuple[str, PersonAttributes, list[SettlementRecord]]:
    code = draw(st.sampled_from(CODES))
    year = PLANS[code].year
    days = st.integers(-3, 367).map(lambda d: date(year, 1, 1) + timedelta(days=d))  # a few outside the year
    fields = draw(st.lists(parts(code), min_size=1, max_size=max_records))
    dates = sorted(draw(days) for _ in fields)
    return code, draw(persons), [record(i, f, d) for i, (f, d) in enumerate(zip(fields, dates, strict=True))]


def by_liability_totals(results: list[Any]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for r in results:
        for code, amount in r.by_liability.items():
            totals[code] = totals.get(code, D(0)) + amount
    return totals


def cap_of(plan: Plan, liability: str, person: PersonAttributes) -> Decimal | None:
    values = {name: getattr(person, name) for name in
              ("category", "employment", "health", "continuous_no_claim_3y", "student")}
    li = plan.liability(liability)
    for row in li.caps:  # seed cap rows select on person attributes only
        if row.when.first_mismatch(values, date(plan.year, 6, 1)) is None:
            return None if row.amount is None else plan.resolve(row.amount)
    raise AssertionError("no cap row")


@SETTINGS
@given(scenarios())
def test_payable_is_never_negative_and_sums_its_liabilities(scenario: Any) -> None:
    code, person, records = scenario
    for r in evaluate(PLANS[code], {"P1": person}, records).results:
        assert r.payable >= 0
        assert all(amount > 0 for amount in r.by_liability.values())
        assert r.payable == sum(r.by_liability.values(), D(0))
        assert r.payable == r.payable.quantize(CENT)


@SETTINGS
@given(scenarios(max_records=10), st.integers(0, 1_200_000).map(lambda y: D(y)))
def test_cumulative_paid_never_exceeds_any_cap(scenario: Any, already_paid: Decimal) -> None:
    code, person, records = scenario
    plan = PLANS[code]
    # Start part-way: every liability and shared cap has already paid something.
    start = Accumulators.of(
        paid={("P1", li.code): min(already_paid, cap_of(plan, li.code, person) or already_paid)
              for li in plan.liabilities},
        shared_paid={("P1", s.code): min(already_paid, plan.resolve(s.amount)) for s in plan.shared_caps},
    )
    evaluation = evaluate(plan, {"P1": person}, records, start)
    paid_now = by_liability_totals(evaluation.results)
    for li in plan.liabilities:
        cap = cap_of(plan, li.code, person)
        total = evaluation.accumulators.paid.get(("P1", li.code), D(0))
        assert total == start.paid[("P1", li.code)] + paid_now.get(li.code, D(0))
        if cap is not None:
            assert total <= cap
    for shared in plan.shared_caps:
        assert evaluation.accumulators.shared_paid.get(("P1", shared.code), D(0)) <= plan.resolve(shared.amount)


def _split(fields: dict[str, Any], share: Decimal) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two records whose amounts add up to `fields`, each with non-negative bases."""
    first, second = dict(fields), dict(fields)
    for name in ("hifp_pay", "hifmi_pay", "over_cap_amt", "drug_amount"):
        first[name] = (fields[name] * share).quantize(CENT)
        second[name] = fields[name] - first[name]
    base = fields["inscp_scp_amt"] + fields["preselfpay_amt"] - fields["hifp_pay"] - fields["hifmi_pay"]
    base1 = (base * share).quantize(CENT)
    first["preselfpay_amt"] = min(fields["preselfpay_amt"], base1)
    second["preselfpay_amt"] = fields["preselfpay_amt"] - first["preselfpay_amt"]
    first["inscp_scp_amt"] = first["hifp_pay"] + first["hifmi_pay"] + base1 - first["preselfpay_amt"]
    second["inscp_scp_amt"] = fields["inscp_scp_amt"] - first["inscp_scp_amt"]
    items1 = tuple(ItemLine(i.code, i.item_type, (i.amount * share).quantize(CENT)) for i in fields["items"])
    first["items"] = items1
    second["items"] = tuple(
        ItemLine(i.code, i.item_type, i.amount - j.amount) for i, j in zip(fields["items"], items1, strict=True)
    )
    rest = fields["fulamt_ownpay_amt"] - sum((i.amount for i in fields["items"]), D(0))
    first["fulamt_ownpay_amt"] = (rest * share).quantize(CENT) + sum((i.amount for i in items1), D(0))
    second["fulamt_ownpay_amt"] = fields["fulamt_ownpay_amt"] - first["fulamt_ownpay_amt"]
    return first, second


@SETTINGS
@given(scenarios(max_records=4), st.integers(1, 99).map(lambda p: D(p) / 100), st.data())
def test_splitting_a_record_changes_the_total_by_at_most_a_cent_per_liability(
    scenario: Any, share: Decimal, data: st.DataObject
) -> None:
    code, person, history = scenario
    plan = PLANS[code]
    fields = data.draw(parts(code, max_yuan=600_000))
    enddate = date(plan.year, 12, 31)
    whole = history + [record(90, fields, enddate)]
    first, second = _split(fields, share)
    split = history + [record(90, first, enddate), record(91, second, enddate)]
    merged_paid = by_liability_totals(evaluate(plan, {"P1": person}, whole).results)
    split_paid = by_liability_totals(evaluate(plan, {"P1": person}, split).results)
    liabilities = set(merged_paid) | set(split_paid)
    diffs = {c: abs(merged_paid.get(c, D(0)) - split_paid.get(c, D(0))) for c in liabilities}
    multi_liability_shared = any(len(s.liabilities) > 1 for s in plan.shared_caps)
    if not multi_liability_shared:
        assert all(diff <= CENT for diff in diffs.values()), diffs
    # A shared cap may move money between liabilities, never more than a cent each in total.
    total_diff = abs(sum(merged_paid.values(), D(0)) - sum(split_paid.values(), D(0)))
    assert total_diff <= CENT * max(1, len(liabilities))


def _rate_paths(code: str) -> list[tuple[int, int, int]]:
    data = SEED_PLAN_DICTS[code]
    return [
        (li, row, band)
        for li, liability in enumerate(data["liabilities"])
        if not liability.get("item_caps")  # see test_raising_the_item_capped_rate_can_lower_the_total
        for row, schedule_row in enumerate(liability["schedule"])
        for band in range(len(schedule_row["bands"]))
    ]


@SETTINGS
@given(scenarios(max_records=8), st.data(), st.integers(1, 40).map(lambda p: D(p) / 100))
def test_raising_a_rate_never_lowers_the_persons_total(scenario: Any, data: st.DataObject, bump: Decimal) -> None:
    code, person, records = scenario
    li, row, band = data.draw(st.sampled_from(_rate_paths(code)))
    raised = copy.deepcopy(SEED_PLAN_DICTS[code])
    target = raised["liabilities"][li]["schedule"][row]
    target["bands"] = copy.deepcopy(target["bands"])
    target["bands"][band]["rate"] = str(min(D(1), D(target["bands"][band]["rate"]) + bump))
    before = sum((r.payable for r in evaluate(PLANS[code], {"P1": person}, records).results), D(0))
    after = sum((r.payable for r in evaluate(plan_from_dict(raised), {"P1": person}, records).results), D(0))
    assert after >= before


def test_raising_the_item_capped_rate_can_lower_the_total() -> None:
    """Why item-capped liabilities are excluded above: the item's base limit is cap / rate, so a
    higher rate counts less of a big item toward the base; with a deductible still to cover,
    (limit - deductible) x rate falls (DOMAIN.md §4.4's rule, kept as written)."""
    code = "beijing-chaoyang-2026"
    raised = copy.deepcopy(SEED_PLAN_DICTS[code])
    raised["liabilities"][1]["schedule"][2]["bands"] = [{"upto": None, "rate": "0.80"}]
    big_drug = SettlementRecord("S1", "P1", date(2026, 5, 1), "inpatient", hosp_lv="2",
                                fulamt_ownpay_amt=D("500000"), items=(ItemLine("D1", "drug", D("500000")),))
    person = {"P1": PersonAttributes()}
    assert evaluate(PLANS[code], person, [big_drug]).results[0].payable == D("289500.00")  # (428,571.43 - 15,000) x 70 %
    assert evaluate(plan_from_dict(raised), person, [big_drug]).results[0].payable == D("288000.00")  # (375,000 - 15,000) x 80 %


@SETTINGS
@given(scenarios(max_records=8))
def test_explained_path_computes_what_the_fast_path_computes(scenario: Any) -> None:
    code, person, records = scenario
    fast = evaluate(PLANS[code], {"P1": person}, records)
    slow = evaluate(PLANS[code], {"P1": person}, records, explain=True)
    assert [(r.payable, dict(r.by_liability)) for r in fast.results] == [
        (r.payable, dict(r.by_liability)) for r in slow.results
    ]
    assert fast.accumulators == slow.accumulators
    for r in slow.results:
        assert r.explanation is not None
        for line in r.explanation.lines:
            if line.covered:
                assert sum((p.amount for p in line.portions), D(0)) == line.raw
                assert line.cum_paid_after == line.cum_paid_before + line.payable  # type: ignore[operator]

"""Benefit-engine throughput on 100,000 settlement records across the four seed plans.

Run: `.venv/bin/python bench/engine_throughput.py [--records N] [--repeat K]`

Prints, measured in this run on one core:
  (a) the I/O floor: parse the trial-calc input JSON and re-serialise an output of the same
      shape (same keys, explanation lists of typical size), with no calculation;
  (b) engine throughput without explanations (target >= 100,000 records/s);
  (c) a straightforward hard-coded Decimal implementation of the four contracts (the baseline,
      below) and the ratio engine / baseline; engine and baseline must agree on every record;
  (d) end-to-end `run_trial` (parse, evaluate with explanations, serialise) and its ratio to
      the I/O floor (target < 5 s).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from claims.engine import compile_plan, evaluate, run_trial, seed_plans  # noqa: E402
from claims.engine.io import load_json, parse_trial_input, trial_output  # noqa: E402
from claims.engine.records import PersonAttributes, SettlementRecord  # noqa: E402

SEED = 20251122

# --------------------------------------------------------------------------- baseline
# The four contracts written out by hand, the way one would without a rules engine: one
# function per contract, if-chains for rates, a loop over the bands. Same semantics as the
# engine (accumulate base, deductible, bands, round once half-up, caps), checked record by
# record below.

D = Decimal
ZERO = D("0.00")
CENT = D("0.01")
Persons = dict[str, PersonAttributes]
Out = list[tuple[str | None, Decimal, dict[str, Decimal]]]


def _banded(before: Decimal, after: Decimal, deductible: Decimal,
            uppers: tuple[Decimal | None, ...], rates: tuple[Decimal, ...]) -> Decimal:
    """Sum of portion x rate over the bands (deductible, u1], (u1, u2], ..., (un, inf)."""
    raw = ZERO
    lower = deductible
    for upper, rate in zip(uppers, rates, strict=True):
        start = before if before > lower else lower
        end = after if upper is None or after < upper else upper
        if end > start:
            raw += (end - start) * rate
        if upper is None:
            break
        lower = upper
    return raw


def _limit(amount: Decimal, *lefts: Decimal) -> Decimal:
    for left in lefts:
        if amount > left:
            amount = left if left > ZERO else ZERO
    return amount


TL_UPPERS = (D(30000), D(50000), D(80000), None)
TL_RATES = {  # (special, first half out of region) -> rates
    (False, False): (D("0.60"), D("0.70"), D("0.80"), D("0.90")),
    (True, False): (D("0.65"), D("0.75"), D("0.85"), D("0.95")),
    (False, True): (D("0.60"), D("0.65"), D("0.75"), D("0.85")),
    (True, True): (D("0.65"), D("0.70"), D("0.80"), D("0.90")),
}


def baseline_tongliao(persons: Persons, records: list[SettlementRecord]) -> Out:
    start, end, switch = date(2025, 1, 1), date(2025, 12, 31), date(2025, 7, 1)
    cum_base: dict[tuple[str, str], Decimal] = {}
    cum_paid: dict[tuple[str, str], Decimal] = {}
    out: Out = []
    for r in records:
        person = persons[r.psn_no]
        by: dict[str, Decimal] = {}
        if start <= r.enddate <= end:
            if r.claim_kind in ("inpatient", "special_outpatient", "accident_inpatient"):
                base = r.inscp_scp_amt - r.hifp_pay
                if base > 0:
                    special = person.category == "special"
                    deductible = D(7000) if special else D(14000)
                    rates = TL_RATES[(special, r.place == "out_of_region" and r.enddate < switch)]
                    key = (r.psn_no, "critical_illness")
                    before = cum_base.get(key, ZERO)
                    after = cum_base[key] = before + base
                    amount = _banded(before, after, deductible, TL_UPPERS, rates).quantize(CENT, ROUND_HALF_UP)
                    paid = cum_paid.get(key, ZERO)
                    if not special:
                        amount = _limit(amount, D(380000) - paid)
                    if amount:
                        cum_paid[key] = paid + amount
                        by["critical_illness"] = amount
            if r.claim_kind == "accident_inpatient" and r.hifp_pay > 0:
                key = (r.psn_no, "accident_basic")
                paid = cum_paid.get(key, ZERO)
                amount = _limit(r.hifp_pay.quantize(CENT, ROUND_HALF_UP), D(120000) - paid)
                if amount:
                    cum_paid[key] = paid + amount
                    by["accident_basic"] = amount
            if r.claim_kind == "student_accident_outpatient" and person.student and r.inscp_scp_amt > 0:
                key = (r.psn_no, "student_accident_outpatient")
                paid = cum_paid.get(key, ZERO)
                amount = _limit((r.inscp_scp_amt * D("0.75")).quantize(CENT, ROUND_HALF_UP), D(2000) - paid)
                if amount:
                    cum_paid[key] = paid + amount
                    by["student_accident_outpatient"] = amount
        out.append((r.setl_id, sum(by.values(), ZERO), by))
    return out


TK_RATES = {
    ("local", "active"): D("0.85"), ("local", "retired"): D("0.90"),
    ("province_referral", "active"): D("0.80"), ("province_referral", "retired"): D("0.85"),
    ("out_of_province_referral", "active"): D("0.75"), ("out_of_province_referral", "retired"): D("0.80"),
    ("remote_resident", "retired"): D("0.85"),
}


def _employee_supplement(persons: Persons, records: list[SettlementRecord], year: int, cap: Decimal,
                         rate_of: Callable[[PersonAttributes, SettlementRecord], Decimal | None]) -> Out:
    start, end = date(year, 1, 1), date(year, 12, 31)
    cum_paid: dict[str, Decimal] = {}
    out: Out = []
    for r in records:
        by: dict[str, Decimal] = {}
        if start <= r.enddate <= end and r.claim_kind in ("inpatient", "special_outpatient") and r.over_cap_amt > 0:
            rate = rate_of(persons[r.psn_no], r)
            if rate is not None:
                paid = cum_paid.get(r.psn_no, ZERO)
                amount = _limit((r.over_cap_amt * rate).quantize(CENT, ROUND_HALF_UP), cap - paid)
                if amount:
                    cum_paid[r.psn_no] = paid + amount
                    by["supplementary"] = amount
        out.append((r.setl_id, sum(by.values(), ZERO), by))
    return out


def _taikang_rate(person: PersonAttributes, r: SettlementRecord) -> Decimal | None:
    rate = TK_RATES.get((r.place, person.employment))
    if rate is not None and r.place == "local" and r.hosp_lv == "3A":
        rate -= D("0.05")
    return rate


def baseline_taikang(persons: Persons, records: list[SettlementRecord]) -> Out:
    return _employee_supplement(persons, records, 2025, D(470000), _taikang_rate)


def baseline_zhenping(persons: Persons, records: list[SettlementRecord]) -> Out:
    return _employee_supplement(persons, records, 2026, D(540000), lambda person, r: D("0.90"))


def baseline_beijing(persons: Persons, records: list[SettlementRecord]) -> Out:
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    ci_deductible = D(30404)
    cum_base: dict[tuple[str, str], Decimal] = {}
    cum_paid: dict[tuple[str, str], Decimal] = {}
    counted: dict[tuple[str, str], Decimal] = {}
    total_paid: dict[str, Decimal] = {}
    out: Out = []

    def pay(psn: str, liability: str, amount: Decimal, cap: Decimal, *extra: Decimal) -> Decimal:
        paid = cum_paid.get((psn, liability), ZERO)
        total = total_paid.get(psn, ZERO)
        amount = _limit(amount, cap - paid, *extra, D(3500000) - total)
        if amount:
            cum_paid[(psn, liability)] = paid + amount
            total_paid[psn] = total + amount
        return amount

    for r in records:
        person = persons[r.psn_no]
        healthy = person.health == "healthy"
        by: dict[str, Decimal] = {}
        if not (start <= r.enddate <= end):
            out.append((r.setl_id, ZERO, by))
            continue
        if r.claim_kind in ("inpatient", "outpatient", "special_outpatient"):
            base = r.inscp_scp_amt + r.preselfpay_amt - r.hifp_pay - r.hifmi_pay
            if base > 0:
                key = (r.psn_no, "in_catalog")
                before = cum_base.get(key, ZERO)
                after = cum_base[key] = before + base
                if healthy:
                    raw = _banded(before, after, D(15000), (ci_deductible, None), (D("0.25"), D("0.80")))
                else:
                    raw = _banded(before, after, ci_deductible, (None,), (D("0.40"),))
                amount = pay(r.psn_no, "in_catalog", raw.quantize(CENT, ROUND_HALF_UP), D(1000000))
                if amount:
                    by["in_catalog"] = amount
        if r.claim_kind == "inpatient" and r.hosp_lv in ("2", "3", "3A"):
            if person.continuous_no_claim_3y:
                deductible = D(5000) if healthy else D(15000)
            else:
                deductible = D(15000) if healthy else D(20000)
            rate = D("0.70") if healthy else D("0.35")
            base = r.fulamt_ownpay_amt
            for item in r.items:
                item_cap = D(300000) if item.item_type == "drug" else D(100000)
                limit = (item_cap / rate).quantize(CENT, ROUND_HALF_UP)
                before = counted.get((r.psn_no, item.code), ZERO)
                room = limit - before if limit > before else ZERO
                take = item.amount if item.amount <= room else room
                counted[(r.psn_no, item.code)] = before + take
                base -= item.amount - take
            if base > 0:
                key = (r.psn_no, "out_of_catalog")
                before = cum_base.get(key, ZERO)
                after = cum_base[key] = before + base
                raw = (after - max(before, deductible)) * rate if after > deductible else ZERO
                amount = pay(r.psn_no, "out_of_catalog", raw.quantize(CENT, ROUND_HALF_UP), D(1000000))
                if amount:
                    by["out_of_catalog"] = amount
        if r.claim_kind == "special_drug" and r.designated and r.drug_amount > 0:
            rate = D("0.65") if healthy else D("0.35")
            raw = (r.drug_amount * rate).quantize(CENT, ROUND_HALF_UP)
            if r.drug_list in ("sd1_domestic", "sd1_overseas"):
                sub = (r.psn_no, r.drug_list)
                sub_paid = cum_paid.get(sub, ZERO)
                amount = pay(r.psn_no, "special_drug_1", raw, D(1000000), D(500000) - sub_paid)
                if amount:
                    cum_paid[sub] = sub_paid + amount
                    by["special_drug_1"] = amount
            elif r.drug_list == "sd2":
                amount = pay(r.psn_no, "special_drug_2", raw, D(500000))
                if amount:
                    by["special_drug_2"] = amount
        out.append((r.setl_id, sum(by.values(), ZERO), by))
    return out


BASELINES: dict[str, Callable[[Persons, list[SettlementRecord]], Out]] = {
    "tongliao-2025": baseline_tongliao,
    "taikang-2025": baseline_taikang,
    "zhenping-2026": baseline_zhenping,
    "beijing-chaoyang-2026": baseline_beijing,
}

# --------------------------------------------------------------------------- data


def _cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _date(rng: random.Random, year: int) -> str:
    # About 1 % of records fall outside the plan year: they must pay nothing.
    if rng.random() < 0.01:
        return f"{year + rng.choice((-1, 1))}-0{rng.randint(1, 9)}-15"
    return (date(year, 1, 1) + timedelta(days=rng.randrange(365))).isoformat()


def _big(rng: random.Random, typical: int, large: int) -> int:
    """A base in yuan: mostly moderate, sometimes large enough to cross caps."""
    return rng.randint(0, large) if rng.random() < 0.04 else rng.randint(0, typical)


def gen_tongliao(rng: random.Random, n: int, persons: int) -> dict[str, Any]:
    people = [
        {"psn_no": f"TL{i:05d}", "category": "special" if rng.random() < 0.2 else "ordinary",
         "student": rng.random() < 0.1}
        for i in range(persons)
    ]
    settlements = []
    for k in range(n):
        person = rng.choice(people)
        kind = rng.choices(
            ("inpatient", "special_outpatient", "accident_inpatient", "student_accident_outpatient"),
            (60, 20, 15, 5),
        )[0]
        s: dict[str, Any] = {"setl_id": f"TL-S{k:06d}", "psn_no": person["psn_no"],
                             "enddate": _date(rng, 2025), "claim_kind": kind,
                             "hosp_lv": rng.choice(("1", "2", "3", "3A"))}
        if kind == "student_accident_outpatient":
            s["inscp_scp_amt"] = _cents(rng.randint(0, 150_000))
        else:
            s["place"] = "out_of_region" if rng.random() < 0.3 else "in_region"
            hifp = rng.randint(0, 6_000_000)
            s["hifp_pay"] = _cents(hifp)
            s["inscp_scp_amt"] = _cents(hifp + _big(rng, 40_000, 400_000) * 100 + rng.randint(0, 99))
            s["medfee_sumamt"] = s["inscp_scp_amt"]
        settlements.append(s)
    return {"persons": people, "settlements": settlements}


def gen_employees(rng: random.Random, n: int, persons: int, prefix: str, year: int,
                  places: tuple[str, ...]) -> dict[str, Any]:
    people = [{"psn_no": f"{prefix}{i:05d}", "employment": rng.choice(("active", "retired"))}
              for i in range(persons)]
    settlements = []
    for k in range(n):
        person = rng.choice(people)
        s: dict[str, Any] = {"setl_id": f"{prefix}-S{k:06d}", "psn_no": person["psn_no"],
                             "enddate": _date(rng, year),
                             "claim_kind": rng.choice(("inpatient", "special_outpatient")),
                             "hosp_lv": rng.choice(("1", "2", "3", "3A"))}
        if places:
            place = rng.choice(places)
            if place == "remote_resident" and person["employment"] == "active" and rng.random() < 0.8:
                place = "local"
            s["place"] = place
        over = 0 if rng.random() < 0.4 else _big(rng, 30_000, 300_000)
        s["over_cap_amt"] = _cents(over * 100 + rng.randint(0, 99) if over else 0)
        settlements.append(s)
    return {"persons": people, "settlements": settlements}


def gen_beijing(rng: random.Random, n: int, persons: int) -> dict[str, Any]:
    people = [{"psn_no": f"BJ{i:05d}", "health": "preexisting" if rng.random() < 0.3 else "healthy",
               "continuous_no_claim_3y": rng.random() < 0.3} for i in range(persons)]
    drugs = [f"D{i:03d}" for i in range(20)]
    implants = [f"I{i:03d}" for i in range(10)]
    settlements = []
    for k in range(n):
        person = rng.choice(people)
        kind = rng.choices(("inpatient", "outpatient", "special_outpatient", "special_drug"), (45, 20, 15, 20))[0]
        s: dict[str, Any] = {"setl_id": f"BJ-S{k:06d}", "psn_no": person["psn_no"],
                             "enddate": _date(rng, 2026), "claim_kind": kind}
        if kind == "special_drug":
            s["drug_list"] = rng.choice(("sd1_domestic", "sd1_overseas", "sd2"))
            s["designated"] = rng.random() < 0.95
            s["drug_amount"] = _cents(_big(rng, 30_000, 600_000) * 100)
        else:
            s["hosp_lv"] = rng.choice(("1", "2", "3", "3A"))
            hifp = rng.randint(0, 5_000_000)
            hifmi = rng.randint(0, 1_000_000)
            s["hifp_pay"] = _cents(hifp)
            s["hifmi_pay"] = _cents(hifmi)
            s["preselfpay_amt"] = _cents(rng.randint(0, 500_000))
            s["inscp_scp_amt"] = _cents(hifp + hifmi + _big(rng, 40_000, 400_000) * 100)
            if kind == "inpatient":
                own = _big(rng, 40_000, 400_000) * 100
                items = []
                if rng.random() < 0.3:
                    for _ in range(rng.randint(1, 3)):
                        kind_item = "drug" if rng.random() < 0.6 else "implant"
                        code = rng.choice(drugs if kind_item == "drug" else implants)
                        amount = rng.randint(0, 20_000_000)
                        items.append({"code": code, "type": kind_item, "amount": _cents(amount)})
                        own += amount
                s["fulamt_ownpay_amt"] = _cents(own)
                if items:
                    s["items"] = items
        settlements.append(s)
    return {"persons": people, "settlements": settlements}


def generate(total: int) -> dict[str, dict[str, Any]]:
    """A deterministic mix: a quarter of the records for each seed plan, 400 persons each."""
    rng = random.Random(SEED)
    quarter = total // 4
    return {
        "tongliao-2025": gen_tongliao(rng, quarter, 400),
        "taikang-2025": gen_employees(rng, quarter, 400, "TK", 2025,
                                      ("local", "province_referral", "out_of_province_referral", "remote_resident")),
        "zhenping-2026": gen_employees(rng, quarter, 400, "ZP", 2026, ()),
        "beijing-chaoyang-2026": gen_beijing(rng, total - 3 * quarter, 400),
    }


def timed(
    fns: dict[str, Callable[[], Any]], repeat: int, gc_off: bool = False
) -> dict[str, tuple[float, float, float, Any]]:
    """Run the functions in turn `repeat + 1` times (interleaved, so machine noise hits all
    alike); per function: (first run, median and best of the other runs, last result).
    The garbage collector stays on, as in production, unless `gc_off`."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, Any] = {}
    for _ in range(repeat + 1):
        for name, fn in fns.items():
            results.pop(name, None)
            gc.collect()
            if gc_off:
                gc.disable()
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
            gc.enable()
    return {
        name: (t[0], statistics.median(t[1:]), min(t[1:]), results[name]) for name, t in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--gc-off", action="store_true", help="disable the garbage collector while timing")
    args = parser.parse_args()
    n, repeat = args.records, args.repeat
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    plans = seed_plans()
    inputs = generate(n)
    texts = {code: json.dumps(data, ensure_ascii=False) for code, data in inputs.items()}
    parsed = {code: parse_trial_input(texts[code], plans[code]) for code in texts}
    print(f"{n:,} records: " + ", ".join(f"{c} {len(p.records):,}" for c, p in parsed.items()))
    print(f"Python {sys.version.split()[0]}, one process pinned to one core, GC {'off' if args.gc_off else 'on'}; "
          f"median (best) of {repeat} runs after a first run\n")

    # The I/O floor writes, per record, an explanation as long as a typical paying one.
    sample = evaluate(plans["tongliao-2025"], parsed["tongliao-2025"].persons,
                      parsed["tongliao-2025"].records[:50], explain=True)
    paying = [r for r in sample.results if r.payable]
    template = trial_output("x", paying[:1])["results"][0]["explanation"]

    def io_floor() -> int:
        size = 0
        for code, text in texts.items():
            data = load_json(text)
            results = [
                {"setl_id": s["setl_id"], "payable": "0.00", "by_liability": {"x": "0.00"}, "explanation": template}
                for s in data["settlements"]
            ]
            size += len(json.dumps({"program": code, "results": results}, ensure_ascii=False))
        return size

    def engine() -> dict[str, Any]:
        return {code: evaluate(plans[code], p.persons, p.records) for code, p in parsed.items()}

    def baseline() -> dict[str, Any]:
        return {code: BASELINES[code](p.persons, p.records) for code, p in parsed.items()}

    def end_to_end() -> int:
        return sum(len(run_trial(code, text, plans)) for code, text in texts.items())

    for plan in plans.values():  # validate and compile outside the timings (rule resolution is inside)
        compile_plan(plan)
    t = timed({"floor": io_floor, "engine": engine, "baseline": baseline, "e2e": end_to_end}, repeat, args.gc_off)

    # Cross-check: identical payable and split per record, hence identical totals.
    total_engine = total_base = Decimal(0)
    for code in parsed:
        for r, (setl_id, payable, by) in zip(t["engine"][3][code].results, t["baseline"][3][code], strict=True):
            if r.setl_id != setl_id or r.payable != payable or dict(r.by_liability) != by:
                raise SystemExit(f"MISMATCH {code} {setl_id}: engine {r.payable} {dict(r.by_liability)} "
                                 f"baseline {payable} {by}")
            total_engine += r.payable
            total_base += payable
    assert total_engine == total_base
    paying_count = sum(1 for ev in t["engine"][3].values() for r in ev.results if r.payable)

    def line(name: str) -> str:
        first, median, best, _ = t[name]
        return f"{median:.3f} s ({best:.3f} s best) = {n / median:,.0f} records/s"

    floor, eng, base, e2e = (t[k][1] for k in ("floor", "engine", "baseline", "e2e"))
    print(f"(a) I/O floor, parse input JSON + serialise same-shape output: {line('floor')}; "
          f"output {t['floor'][3] / 1e6:.0f} MB")
    print(f"(b) engine, no explanations:   {line('engine')}; first run with empty rule cache "
          f"{n / t['engine'][0]:,.0f} records/s")
    print(f"(c) hard-coded baseline:       {line('baseline')}; engine / baseline = {base / eng:.2f}x")
    print(f"    cross-check: engine and baseline identical on all {n:,} records ({paying_count:,} paying), "
          f"total payable {total_engine:,} yuan")
    print(f"(d) run_trial end to end:      {line('e2e')}; {e2e / floor:.2f}x the I/O floor; "
          f"output {t['e2e'][3] / 1e6:.0f} MB")
    targets = [("engine >= 100,000 records/s", n / eng >= 100_000), ("engine beats baseline", eng < base),
               ("end to end < 5 s", e2e < 5.0)]
    print("targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets))


if __name__ == "__main__":
    main()

"""The engine over columns: a whole year of settlements evaluated with numpy in integer fen,
to the fen the figures of `Evaluator` (the renewal simulation runs a million records twice).

What the per-record loop does, restated for columns of one plan (rows of a person contiguous
and in the engine's order, no starting accumulators):

- rules are resolved once per distinct (tested person attributes, record codes, date segment),
  by the compiled plan's own `resolve`, exactly as the loop's cache does;
- per liability, a row pays only if it has a tariff and a positive base; the person's
  cumulative base is a running sum over those rows (`after`; `before` = after − base);
- a row past the deductible pays F(after) − F(max(before, deductible)), F being the bands'
  cumulative payable, computed in integers (fen × 10^R, R the rates' decimals) and rounded
  half up to the fen: exactly the Decimal `raw_between(...).quantize(CENT, ROUND_HALF_UP)`;
- an annual cap C over the rounded amounts r_k paid so far: the loop pays
  min(r_k, max(C − P_{k−1}, 0)), so the paid total is P_k = min(r_1 + … + r_k, C) and the
  row pays P_k − P_{k−1}; the person reached the cap when r_1 + … + r_k ≥ C at some row past
  the deductible (the loop's `amount >= left`).

The closed form of the cap holds when a person's cap is the same on all their rows of a
liability. Where it is not (a cap row selected by a record code that changes between the
person's records), the person is reported in `unsupported` and their rows pay nothing here:
the caller evaluates them with `Evaluator`. Plans with shared caps or per-item caps are not
supported at all (`supported(plan)` is False; the caller uses `Evaluator`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

from .compiled import CompiledPlan, Tariff
from .records import PersonAttributes, SettlementRecord

#: The record codes a key of `Columns.keys` holds, in this order.
KEY_FIELDS = ("claim_kind", "place", "hosp_lv", "designated", "drug_list")
_LIMIT = 2**62  # products stay below this, or the evaluation refuses (int64)


class Unsupported(ValueError):
    """The plan (or the amounts' size) is outside what the columnar form computes exactly."""


def supported(cp: CompiledPlan) -> bool:
    """Whether `evaluate_columns` can evaluate this plan: no shared caps, no per-item caps."""
    return not cp.plan.shared_caps and not any(li.item_caps for li in cp.plan.liabilities)


@dataclass
class Columns:
    """A year of records as columns. Row i belongs to person `person[i]` (an index into
    `persons`); each person's rows are contiguous and in the engine's order."""

    person: np.ndarray  # int64
    persons: Sequence[PersonAttributes]
    enddate: np.ndarray  # int64, date.toordinal()
    key: np.ndarray  # int64, index into `keys`
    keys: Sequence[tuple]  # (claim_kind, place, hosp_lv, designated, drug_list)
    amounts: Mapping[str, np.ndarray]  # field -> int64 fen; the fields the plan's base formulas read


@dataclass
class ColumnResult:
    payable: np.ndarray  # int64 fen per row
    by_liability: dict[str, np.ndarray]  # liability code -> int64 fen paid per person
    capped: np.ndarray  # bool per person: a payment reached an annual cap of theirs
    unsupported: np.ndarray  # bool per person: not evaluated here (their rows and totals are 0)


def _fen(amount: Decimal) -> int:
    """Yuan with at most 2 decimals (compiled plan amounts are quantized to the fen) as fen."""
    fen = amount.scaleb(2)
    if fen != fen.to_integral_value():
        raise Unsupported(f"amount {amount} has more than two decimals")
    return int(fen)


def _decimals(rate: Decimal) -> int:
    exponent = rate.normalize().as_tuple().exponent
    return max(-int(exponent), 0)


class _Bands:
    """A tariff's bands in integers: lows in fen, rates × scale, cumulative payable × scale."""

    def __init__(self, t: Tariff, scale: int) -> None:
        self.lows = np.array([_fen(x) for x in t.lows], dtype=np.int64)
        rates = [int(r * scale) for r in t.rates]
        if any(Decimal(r) != rate * scale for r, rate in zip(rates, t.rates, strict=True)):
            raise Unsupported("a rate has more decimals than the scale")
        cums = [0]
        for i in range(1, len(rates)):
            cums.append(cums[-1] + (int(self.lows[i]) - int(self.lows[i - 1])) * rates[i - 1])
        self.rates = np.array(rates, dtype=np.int64)
        self.cums = np.array(cums, dtype=np.int64)
        self.deductible = int(self.lows[0])
        self.cap = None if t.cap is None else _fen(t.cap)

    def cumulative(self, x: np.ndarray) -> np.ndarray:
        """F(x) × scale: the raw payable up to cumulative base x (fen), x >= the deductible."""
        i = np.searchsorted(self.lows, x, side="right") - 1
        np.maximum(i, 0, out=i)
        return self.cums[i] + (x - self.lows[i]) * self.rates[i]


def _run_sums(values: np.ndarray, starts: np.ndarray, run: np.ndarray) -> np.ndarray:
    """Running sum of `values` restarting at each run (a person's rows)."""
    total = np.cumsum(values)
    before_run = (total - values)[starts]
    return total - before_run[run]


def evaluate_columns(cp: CompiledPlan, cols: Columns) -> ColumnResult:
    """Every row's payable under `cp`, as `Evaluator.run` over the same records in the same
    order would give it (to the fen), with no starting accumulators."""
    if not supported(cp):
        raise Unsupported(f"plan {cp.plan.code} has shared or per-item caps")
    n = len(cols.person)
    n_persons = len(cols.persons)
    person = cols.person
    payable = np.zeros(n, dtype=np.int64)
    by_liability: dict[str, np.ndarray] = {}
    capped = np.zeros(n_persons, dtype=bool)
    unsupported = np.zeros(n_persons, dtype=bool)
    if n == 0:
        return ColumnResult(payable, by_liability, capped, unsupported)
    boundary = np.empty(n, dtype=bool)
    boundary[0] = True
    np.not_equal(person[1:], person[:-1], out=boundary[1:])
    starts = np.flatnonzero(boundary)
    if len(np.unique(person[starts])) != len(starts):
        raise ValueError("the rows of a person must be contiguous")
    del boundary, starts

    # Resolve the rules once per distinct (person key, record key, date segment).
    # persons share attribute objects: the key is computed once per distinct object
    objects, first_person, object_of = np.unique(
        np.fromiter(map(id, cols.persons), dtype=np.int64, count=n_persons), return_index=True, return_inverse=True
    )
    person_keys: dict[object, int] = {}
    key_of_object = np.array(
        [person_keys.setdefault(cp.person_key(cols.persons[i]), len(person_keys)) for i in first_person.tolist()],
        dtype=np.int64,
    )
    person_key_id = key_of_object[object_of] if n_persons else np.zeros(0, dtype=np.int64)
    del objects, first_person, object_of
    breaks = np.array([d.toordinal() for d in cp.date_breaks], dtype=np.int64)
    segment = np.searchsorted(breaks, cols.enddate, side="right")
    combo = (person_key_id[person] * max(len(cols.keys), 1) + cols.key) * (len(breaks) + 1) + segment
    distinct, first, inverse = np.unique(combo, return_index=True, return_inverse=True)
    del combo, segment
    resolutions = []
    for row in first.tolist():
        values = dict(zip(KEY_FIELDS, cols.keys[int(cols.key[row])], strict=True))
        record = SettlementRecord(None, "", date.fromordinal(int(cols.enddate[row])), **values)
        resolutions.append(cp.resolve(cols.persons[int(person[row])], record))

    tariffs_seen = [t for res in resolutions for t in res.tariffs]
    scale = 10 ** max((_decimals(r) for t in tariffs_seen for r in t.rates), default=0)
    half = scale // 2
    max_rate = max((int(r * scale) for t in tariffs_seen for r in t.rates), default=0)
    bands_of: dict[int, _Bands] = {}

    for index, liability in enumerate(cp.plan.liabilities):
        # per distinct resolution: this liability's tariff (an index into `tariffs`), or -1
        tariffs: list[_Bands] = []
        tariff_of = np.full(len(distinct), -1, dtype=np.int64)
        for u, res in enumerate(resolutions):
            for t in res.tariffs:
                if t.index == index:
                    bands = bands_of.get(id(t))
                    if bands is None:
                        bands = bands_of[id(t)] = _Bands(t, scale)
                    if bands not in tariffs:
                        tariffs.append(bands)
                    tariff_of[u] = tariffs.index(bands)
        if not tariffs:
            continue
        # The rows that add to this liability's cumulative base: a tariff and a positive base.
        rows = np.flatnonzero(tariff_of[inverse] >= 0)
        base = np.zeros(len(rows), dtype=np.int64)
        for term in liability.base:
            column = cols.amounts[term.field][rows]
            base = base + column if term.sign > 0 else base - column
        positive = base > 0
        rows, base = rows[positive], base[positive]
        if not len(rows):
            continue
        tariff = tariff_of[inverse[rows]]
        who = person[rows]
        first_of = np.empty(len(rows), dtype=bool)
        first_of[0] = True
        np.not_equal(who[1:], who[:-1], out=first_of[1:])
        firsts = np.flatnonzero(first_of)
        runs = np.cumsum(first_of) - 1
        del first_of
        after = _run_sums(base, firsts, runs)
        if int(after.max()) >= _LIMIT // max(max_rate, 1):
            raise Unsupported("cumulative bases too large for exact integer arithmetic")
        deductible = np.empty(len(rows), dtype=np.int64)
        cap = np.full(len(rows), -1, dtype=np.int64)  # -1: no cap
        for k, bands in enumerate(tariffs):
            mine = tariff == k
            deductible[mine] = bands.deductible
            if bands.cap is not None:
                cap[mine] = bands.cap
        paying = after > deductible
        rounded = np.zeros(len(rows), dtype=np.int64)
        for k, bands in enumerate(tariffs):
            mine = np.flatnonzero(paying & (tariff == k))
            if len(mine):
                hi = after[mine]
                lo = np.maximum(hi - base[mine], deductible[mine])
                rounded[mine] = (bands.cumulative(hi) - bands.cumulative(lo) + half) // scale
        del after, base, tariff

        # The cap's closed form needs one cap per person on all their paying rows.
        highest = np.maximum.reduceat(np.where(paying, cap, np.iinfo(np.int64).min), firsts)
        lowest = np.minimum.reduceat(np.where(paying, cap, np.iinfo(np.int64).max), firsts)
        varies = (highest != lowest) & np.logical_or.reduceat(paying, firsts)
        unsupported[who[firsts[varies]]] = True
        del highest, lowest, varies

        paid_total = _run_sums(rounded, firsts, runs)
        paid_before = paid_total - rounded
        has_cap = paying & (cap >= 0)
        amount = np.where(has_cap, np.minimum(paid_total, cap) - np.minimum(paid_before, cap), rounded)
        capped[who[has_cap & (paid_total >= cap)]] = True
        del paid_total, paid_before, has_cap, rounded, paying, cap, deductible
        per_person = np.zeros(n_persons, dtype=np.int64)
        per_person[who[firsts]] = np.add.reduceat(amount, firsts)
        by_liability[liability.code] = per_person
        payable[rows] += amount
        del amount, rows, who, firsts, runs

    payable[unsupported[person]] = 0
    for per_person in by_liability.values():
        per_person[unsupported] = 0
    capped &= ~unsupported
    return ColumnResult(payable, by_liability, capped, unsupported)

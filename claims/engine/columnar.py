"""The engine over columns: a whole year of settlements evaluated with numpy in integer fen,
to the fen the figures of `Evaluator` (the renewal simulation runs a million records twice).

The per-record loop of `Evaluator.run` carries running totals per person, so a person's records
must be evaluated in order; different persons never interact. The columnar form therefore
takes **one record of every person at a time**: step k evaluates, as arrays, the k-th record
of each person who has one, with the persons' running totals held in arrays indexed by person.
Each step does, per liability and exactly as the loop does it:

- the tariff: rules resolved once per distinct (tested person attributes, record codes, date
  segment) by the compiled plan's own `resolve`, as the loop's cache does;
- the base formula, less what per-item caps do not count (item lines, in Python: few rows
  carry them); a base that is not positive adds nothing;
- the cumulative base (`before`, `after`); past the deductible, the bands' payable
  F(after) − F(max(before, deductible)) in integers (fen × 10^R, R the rates' decimals),
  rounded half up to the fen: exactly `raw_between(...).quantize(CENT, ROUND_HALF_UP)`;
- the liability's annual cap, then each shared cap in the plan's order: where the amount
  reaches what is left, the person is at a cap and the amount is what is left (never below 0);
- the running totals: paid per liability, used per shared cap.

The number of steps is the largest number of records of one person; each step's work is a
few dozen array operations, so a year of a million records costs well under a second a plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np

from .compiled import CompiledPlan, Tariff
from .records import PersonAttributes, SettlementRecord

#: The record codes a key of `Columns.keys` holds, in this order.
KEY_FIELDS = ("claim_kind", "place", "hosp_lv", "designated", "drug_list")
_LIMIT = 2**62  # products stay below this, or the evaluation refuses (int64)


class Unsupported(ValueError):
    """Amounts or rates outside what integer arithmetic computes exactly here (an amount with
    more than two decimals, a cumulative base too large): the caller uses `Evaluator`."""


@dataclass
class Columns:
    """A year of records as columns. Row i belongs to person `person[i]` (an index into
    `persons`); each person's rows are contiguous and in the engine's order."""

    person: np.ndarray  # int
    persons: Sequence[PersonAttributes]
    enddate: np.ndarray  # int, date.toordinal()
    key: np.ndarray  # int, index into `keys`
    keys: Sequence[tuple]  # (claim_kind, place, hosp_lv, designated, drug_list)
    amounts: Mapping[str, np.ndarray]  # field -> int64 fen; the fields the plan's base formulas read
    #: row -> its item lines as (code, item type, amount in fen); rows without lines are absent
    items: Mapping[int, tuple[tuple[str, str, int], ...]] = field(default_factory=dict)


@dataclass
class ColumnResult:
    payable: np.ndarray  # int64 fen per row
    by_liability: dict[str, np.ndarray]  # liability code -> int64 fen paid per person
    capped: np.ndarray  # bool per person: a payment reached an annual cap of theirs (own or shared)


def fen(amount: Decimal) -> int:
    """Yuan with at most two decimals as fen; more decimals are refused (`Unsupported`)."""
    scaled = amount.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise Unsupported(f"amount {amount} has more than two decimals")
    return int(scaled)


def _decimals(rate: Decimal) -> int:
    exponent = rate.normalize().as_tuple().exponent
    return max(-int(exponent), 0)


class _Tariff:
    """A tariff in integers: band lows in fen, rates × scale, cumulative payable × scale, the
    caps in fen (-1: none), the shared caps' limits by shared-cap index, the item limits."""

    def __init__(self, t: Tariff, scale: int, n_shared: int) -> None:
        self.lows = np.array([fen(x) for x in t.lows], dtype=np.int64)
        rates = [int(r * scale) for r in t.rates]
        if any(Decimal(r) != rate * scale for r, rate in zip(rates, t.rates, strict=True)):
            raise Unsupported("a rate has more decimals than the scale")
        cums = [0]
        for i in range(1, len(rates)):
            cums.append(cums[-1] + (int(self.lows[i]) - int(self.lows[i - 1])) * rates[i - 1])
        self.rates = np.array(rates, dtype=np.int64)
        self.cums = np.array(cums, dtype=np.int64)
        self.deductible = int(self.lows[0])
        self.cap = -1 if t.cap is None else fen(t.cap)
        self.shared = [-1] * n_shared
        for j, limit in t.shared:
            self.shared[j] = fen(limit)
        # item type -> base limit (fen): how much of an item counts toward the base in the year
        self.item_limits = None if t.item_limits is None else {k: fen(v[1]) for k, v in t.item_limits.items()}

    def cumulative(self, x: np.ndarray) -> np.ndarray:
        """F(x) × scale: the raw payable up to cumulative base x (fen), x >= the deductible."""
        i = np.searchsorted(self.lows, x, side="right") - 1
        np.maximum(i, 0, out=i)
        return self.cums[i] + (x - self.lows[i]) * self.rates[i]


def _resolve(cp: CompiledPlan, cols: Columns) -> tuple[np.ndarray, list]:
    """(resolution index per row, resolutions): the rules resolved once per distinct (tested
    person attributes, record codes, date segment), by the compiled plan's own `resolve`."""
    n_persons = len(cols.persons)
    # persons share attribute objects: the person key is computed once per distinct object
    _objects, first_person, object_of = np.unique(
        np.fromiter(map(id, cols.persons), dtype=np.int64, count=n_persons), return_index=True, return_inverse=True
    )
    person_keys: dict[object, int] = {}
    key_of_object = np.array(
        [person_keys.setdefault(cp.person_key(cols.persons[i]), len(person_keys)) for i in first_person.tolist()],
        dtype=np.int64,
    )
    person_key_id = key_of_object[object_of]
    breaks = np.array([d.toordinal() for d in cp.date_breaks], dtype=np.int64)
    segment = np.searchsorted(breaks, cols.enddate, side="right")
    combo = (person_key_id[cols.person] * max(len(cols.keys), 1) + cols.key) * (len(breaks) + 1) + segment
    _distinct, first, inverse = np.unique(combo, return_index=True, return_inverse=True)
    resolutions = []
    for row in first.tolist():
        values = dict(zip(KEY_FIELDS, cols.keys[int(cols.key[row])], strict=True))
        record = SettlementRecord(None, "", date.fromordinal(int(cols.enddate[row])), **values)
        resolutions.append(cp.resolve(cols.persons[int(cols.person[row])], record))
    return inverse, resolutions


def evaluate_columns(cp: CompiledPlan, cols: Columns) -> ColumnResult:
    """Every row's payable under `cp`, as `Evaluator.run` over the same records in the same
    order gives it (to the fen), with no starting accumulators; each person's paid total per
    liability and whether they reached a cap."""
    n = len(cols.person)
    n_persons = len(cols.persons)
    person = np.asarray(cols.person, dtype=np.int64)
    payable = np.zeros(n, dtype=np.int64)
    capped = np.zeros(n_persons, dtype=bool)
    by_liability: dict[str, np.ndarray] = {}
    if n == 0:
        return ColumnResult(payable, by_liability, capped)
    boundary = np.empty(n, dtype=bool)
    boundary[0] = True
    np.not_equal(person[1:], person[:-1], out=boundary[1:])
    starts = np.flatnonzero(boundary)
    if len(np.unique(person[starts])) != len(starts):
        raise ValueError("the rows of a person must be contiguous")
    # step of each row: its position among its person's rows; rows ordered by step
    rank = np.arange(n, dtype=np.int64) - starts[np.cumsum(boundary) - 1]
    del boundary, starts
    by_step = np.argsort(rank, kind="stable")
    step_ends = np.cumsum(np.bincount(rank))
    del rank

    inverse, resolutions = _resolve(cp, cols)
    tariffs_seen = [t for res in resolutions for t in res.tariffs]
    scale = 10 ** max((_decimals(r) for t in tariffs_seen for r in t.rates), default=0)
    half = scale // 2
    max_rate = max((int(r * scale) for t in tariffs_seen for r in t.rates), default=0)
    n_shared = len(cp.shared_codes)

    liabilities = []  # per liability with some tariff: (code, tariff per resolution, tariffs, arrays)
    converted: dict[int, _Tariff] = {}
    for index, liability in enumerate(cp.plan.liabilities):
        tariffs: list[_Tariff] = []
        tariff_of = np.full(len(resolutions), -1, dtype=np.int64)
        for u, res in enumerate(resolutions):
            for t in res.tariffs:
                if t.index == index:
                    it = converted.get(id(t))
                    if it is None:
                        it = converted[id(t)] = _Tariff(t, scale, n_shared)
                        tariffs.append(it)
                    tariff_of[u] = tariffs.index(it)
        if not tariffs:
            continue
        deductibles = np.array([t.deductible for t in tariffs], dtype=np.int64)
        caps = np.array([t.cap for t in tariffs], dtype=np.int64)
        shared = np.array([t.shared for t in tariffs], dtype=np.int64).reshape(len(tariffs), n_shared)
        liabilities.append((index, liability, tariff_of[inverse], tariffs, deductibles, caps, shared))
        by_liability[liability.code] = np.zeros(n_persons, dtype=np.int64)
    del inverse

    # running totals per person
    cumulative = {index: np.zeros(n_persons, dtype=np.int64) for index, *_ in liabilities}
    paid = {index: np.zeros(n_persons, dtype=np.int64) for index, *_ in liabilities}
    used = [np.zeros(n_persons, dtype=np.int64) for _ in range(n_shared)]
    counted: dict[tuple[int, int, str], int] = {}  # (person, liability, item code) -> counted base
    item_rows = np.fromiter(cols.items, dtype=np.int64, count=len(cols.items)) if cols.items else None
    bound = _LIMIT // max(max_rate, 1)

    start = 0
    for end in step_ends.tolist():
        rows_k = by_step[start:end]  # one row per person
        start = end
        for index, liability, tariff_of_row, tariffs, deductibles, caps, shared in liabilities:
            t = tariff_of_row[rows_k]
            rows = rows_k[t >= 0]
            if not len(rows):
                continue
            t = t[t >= 0]
            who = person[rows]
            base = np.zeros(len(rows), dtype=np.int64)
            for term in liability.base:
                column = cols.amounts[term.field][rows]
                base = base + column if term.sign > 0 else base - column
            if item_rows is not None and liability.item_caps:  # the rows with item lines, in Python
                for i in np.flatnonzero(np.isin(rows, item_rows)).tolist():
                    limits = tariffs[int(t[i])].item_limits
                    if limits is not None:
                        base[i] -= _item_excess(cols.items[int(rows[i])], limits, int(who[i]), index, counted)
            positive = base > 0
            if not positive.all():
                rows, t, who, base = rows[positive], t[positive], who[positive], base[positive]
            if not len(rows):
                continue
            before = cumulative[index][who]
            after = before + base
            cumulative[index][who] = after
            if int(after.max()) >= bound:
                raise Unsupported("cumulative bases too large for exact integer arithmetic")
            deductible = deductibles[t]
            gate = after > deductible
            if not gate.all():
                rows, t, who, before, after, deductible = (
                    rows[gate], t[gate], who[gate], before[gate], after[gate], deductible[gate])
            if not len(rows):
                continue
            lo = np.maximum(before, deductible)
            raw = np.empty(len(rows), dtype=np.int64)
            for k in np.unique(t).tolist():
                mine = t == k
                raw[mine] = tariffs[k].cumulative(after[mine]) - tariffs[k].cumulative(lo[mine])
            amount = (raw + half) // scale
            # the liability's cap, then each shared cap in the plan's order
            limits = [(caps[t], paid[index][who])]
            limits += [(shared[t, j], used[j][who]) for j in range(n_shared)]
            for limit, so_far in limits:
                applies = limit >= 0
                left = limit - so_far
                hit = applies & (amount >= left)
                if hit.any():
                    capped[who[hit]] = True
                    amount = np.where(hit, np.maximum(left, 0), amount)
            paid[index][who] += amount
            for j in range(n_shared):
                applies = shared[t, j] >= 0
                used[j][who[applies]] += amount[applies]
            payable[rows] += amount
            by_liability[liability.code][who] += amount
    return ColumnResult(payable, by_liability, capped)


def _item_excess(lines, limits: dict[str, int], who: int, index: int, counted: dict) -> int:
    """`core._count_items` in fen: record how much of each capped item counts toward the base
    (up to its limit for the year); return the excess that does not."""
    excess = 0
    for code, item_type, amount in lines:
        limit = limits.get(item_type)
        if limit is None:
            continue
        key = (who, index, code)
        before = counted.get(key, 0)
        room = limit - before
        count = amount if amount <= room else (room if room > 0 else 0)
        counted[key] = before + count
        excess += amount - count
    return excess

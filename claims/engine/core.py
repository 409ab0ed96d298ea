"""The benefit engine: one algorithm for every liability of every plan (DOMAIN.md §4).

Per record and covering liability: base (clamped at 0, per-item limits applied) is added to
the person's cumulative base; the part of (before, after] above the deductible is split at
the band boundaries and multiplied by the band rates; the sum is rounded once, half-up, to
0.01; the rounded amount is limited by what is left of the liability cap and of every
applicable shared cap. Rules come from the compiled plan; nothing here knows a contract.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import NamedTuple, overload

from programs.benefit_rules.glossary import CENT, ZERO
from programs.benefit_rules.plan import Plan

from .compiled import CompiledPlan, Resolution, Tariff, compile_plan
from .explain import BandPortion, CapCheck, ItemExplanation, LiabilityExplanation, RecordExplanation
from .records import Accumulators, DatedAttributes, PersonAttributes, SettlementRecord

# Exact arithmetic for any realistic amount; rounding happens only in explicit quantize().
_CONTEXT = Context(prec=40)


class EngineInputError(ValueError):
    """The records cannot be evaluated (e.g. a record's person is not among the persons)."""


class RecordResult(NamedTuple):
    """Outcome of one record. `by_liability` lists only liabilities that pay (> 0);
    `explanation` is None unless the run was asked to explain."""

    setl_id: str | None
    psn_no: str
    payable: Decimal
    by_liability: dict[str, Decimal]
    explanation: RecordExplanation | None = None


class ResultBatch(Sequence[RecordResult]):
    """The results of one run, kept column-wise: a run over 100,000 records then creates no
    per-record object the garbage collector must track (which would cost more than the
    arithmetic). `RecordResult`s are built when read; `payables` and `by_liability` can be
    read directly, aligned with `records`."""

    __slots__ = ("records", "payables", "by_liability", "explanations")

    def __init__(
        self,
        records: list[SettlementRecord],
        payables: list[Decimal],
        by_liability: list[dict[str, Decimal]],
        explanations: list[RecordExplanation] | None,
    ) -> None:
        self.records = records
        self.payables = payables
        self.by_liability = by_liability
        self.explanations = explanations

    def __len__(self) -> int:
        return len(self.payables)

    @overload
    def __getitem__(self, index: int) -> RecordResult: ...
    @overload
    def __getitem__(self, index: slice) -> list[RecordResult]: ...

    def __getitem__(self, index: int | slice) -> RecordResult | list[RecordResult]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        rec = self.records[index]
        explanation = None if self.explanations is None else self.explanations[index]
        return RecordResult(rec.setl_id, rec.psn_no, self.payables[index], self.by_liability[index], explanation)

    def __repr__(self) -> str:
        return f"ResultBatch({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Evaluation:
    results: ResultBatch
    accumulators: Accumulators


class _PersonState:
    """One person's running totals during a batch, indexed by liability / shared-cap position.

    A slot stays None until a record touches it; it is then loaded from the accumulators.
    """

    __slots__ = ("psn", "person", "dated", "cache", "lines", "shared", "items", "capped")

    def __init__(self, psn: str, person: PersonAttributes | DatedAttributes, cp: CompiledPlan) -> None:
        self.psn = psn
        self.dated = person if isinstance(person, DatedAttributes) else None
        if self.dated is not None:
            person = self.dated.values[0]
        self.person = person
        self.cache = cp.cache_for(person)
        self.lines: list[list[Decimal] | None] = [None] * len(cp.codes)  # [cum base, cum paid]
        self.shared: list[Decimal | None] = [None] * len(cp.shared_codes)
        self.items: dict[tuple[int, str], Decimal] = {}
        self.capped = False  # a cap (own or shared) has been reached in this run


_NO_ACCUMULATORS = Accumulators()


class Evaluator:
    """Runs records through a plan in order, keeping each person's running totals between
    calls: a long batch can be fed in chunks (a database cursor, a stream) without holding
    every result, and `accumulators()` gives the totals to persist at the end.

    `evaluate()` is the one-call form.
    """

    def __init__(
        self,
        plan: Plan | CompiledPlan,
        persons: Mapping[str, PersonAttributes | DatedAttributes],
        accumulators: Accumulators | None = None,
    ) -> None:
        self.compiled = plan if isinstance(plan, CompiledPlan) else compile_plan(plan)
        self.persons = persons
        self.start = accumulators if accumulators is not None else _NO_ACCUMULATORS
        self.states: dict[str, _PersonState] = {}

    def run(self, records: Iterable[SettlementRecord], *, explain: bool = False) -> ResultBatch:
        """Results of `records`, in order. Explanations only with `explain=True`: the fast
        path builds no explanation object. Raises EngineInputError, before evaluating
        anything, when a record's person is unknown."""
        records = records if isinstance(records, list) else list(records)
        cp = self.compiled
        persons = self.persons
        for psn in {rec.psn_no for rec in records}:
            if psn not in persons:
                culprit = next(rec for rec in records if rec.psn_no == psn)
                raise EngineInputError(f"settlement {culprit.setl_id}: psn_no {psn!r} not in persons")
        acc = self.start
        acc_base, acc_paid, acc_shared = acc.base, acc.paid, acc.shared_paid
        shared_codes = cp.shared_codes
        states = self.states
        record_key = cp.record_key
        breaks = cp.date_breaks
        lookup = cp.lookup
        payables: list[Decimal] = []
        add_payable = payables.append
        by_liability: list[dict[str, Decimal]] = []
        add_by = by_liability.append
        explanations: list[RecordExplanation] | None = [] if explain else None
        half_up = ROUND_HALF_UP

        with localcontext(_CONTEXT):
            for rec in records:
                psn = rec.psn_no
                ps = states.get(psn)
                if ps is None:
                    ps = states[psn] = _PersonState(psn, persons[psn], cp)
                if ps.dated is not None:  # attributes as they stood on the discharge date
                    on_day = ps.dated.on(rec.enddate)
                    if on_day is not ps.person:
                        ps.person, ps.cache = on_day, cp.cache_for(on_day)
                entry = ps.cache.get(record_key(rec))
                res = None if entry is None else entry[bisect_right(breaks, rec.enddate)]
                if res is None:
                    res = lookup(ps.person, rec, ps.cache)
                if explain:
                    total, by, explanation = _explained(cp, res, rec, ps, acc)
                    add_payable(total)
                    add_by(by)
                    explanations.append(explanation)  # type: ignore[union-attr]
                    continue
                total = None
                by = None
                for index, code, base_of, item_limits, ded, rate, cap, shared_caps, t in res.hot:
                    base = base_of(rec)
                    if item_limits is not None and rec.items:
                        base -= _count_items(t, rec, ps, acc, None)
                    if base <= ZERO:
                        continue
                    lines = ps.lines
                    st = lines[index]
                    if st is None:
                        key = (psn, code)
                        st = lines[index] = [acc_base.get(key, ZERO), acc_paid.get(key, ZERO)]
                    before = st[0]
                    after = st[0] = before + base
                    if ded is None:  # zero deductible: every positive base pays
                        lo = before
                    elif after <= ded:
                        continue
                    else:
                        lo = before if before > ded else ded
                    raw = (after - lo) * rate if rate is not None else t.raw_between(lo, after)
                    amount = raw.quantize(CENT, half_up)
                    if cap is not None:
                        left = cap - st[1]
                        if amount >= left:
                            ps.capped = True
                            amount = left if left > ZERO else ZERO
                    if shared_caps:
                        shared = ps.shared
                        for j, limit in shared_caps:
                            used = shared[j]
                            if used is None:
                                used = acc_shared.get((psn, shared_codes[j]), ZERO)
                            left = limit - used
                            if amount >= left:
                                ps.capped = True
                                amount = left if left > ZERO else ZERO
                        if amount:
                            for j, _limit in shared_caps:
                                used = shared[j]
                                if used is None:
                                    used = acc_shared.get((psn, shared_codes[j]), ZERO)
                                shared[j] = used + amount
                    if amount:
                        st[1] += amount
                        if total is None:
                            total = amount
                            by = {code: amount}
                        else:
                            total += amount
                            by[code] = amount  # type: ignore[index]
                if total is None:
                    add_payable(ZERO)
                    add_by({})
                else:
                    add_payable(total)
                    add_by(by)  # type: ignore[arg-type]
        return ResultBatch(records, payables, by_liability, explanations)

    def persons_at_cap(self) -> list[str]:
        """The persons (psn_no) whose payments in this run reached an annual cap of theirs, own
        or shared (the last payment filled it exactly, or was cut by it)."""
        return sorted(psn for psn, state in self.states.items() if state.capped)

    def paid_in_run(self) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        """What the records run so far paid, above the starting accumulators: per person
        (psn_no; persons paid nothing are left out) and per liability code. Read from the
        running totals, so it equals summing every record's `payable` and `by_liability`
        without the caller doing that per record."""
        codes = self.compiled.codes
        start = self.start.paid
        per_person: dict[str, Decimal] = {}
        per_code: dict[str, Decimal] = {}
        for psn, ps in self.states.items():
            total = ZERO
            for index, st in enumerate(ps.lines):
                if st is None:
                    continue
                paid = st[1] - start.get((psn, codes[index]), ZERO) if start else st[1]
                if paid:
                    total += paid
                    per_code[codes[index]] = per_code.get(codes[index], ZERO) + paid
            if total:
                per_person[psn] = total
        return per_person, per_code

    def accumulators(self) -> Accumulators:
        """The starting accumulators overlaid with every total touched so far."""
        return _merge(self.start, self.states, self.compiled.codes, self.compiled.shared_codes)


def evaluate(
    plan: Plan | CompiledPlan,
    persons: Mapping[str, PersonAttributes | DatedAttributes],
    records: Iterable[SettlementRecord],
    accumulators: Accumulators | None = None,
    *,
    explain: bool = False,
) -> Evaluation:
    """Evaluate `records` in order against `plan`, starting from `accumulators`.

    Returns one result per record and the updated accumulators; the inputs are not modified.
    Explanations are built only with `explain=True` (the fast path creates none).
    """
    evaluator = Evaluator(plan, persons, accumulators)
    results = evaluator.run(records, explain=explain)
    return Evaluation(results, evaluator.accumulators())


def _count_items(
    t: Tariff,
    rec: SettlementRecord,
    ps: _PersonState,
    acc: Accumulators,
    notes: list[ItemExplanation] | None,
) -> Decimal:
    """Record how much of each capped item counts toward the base; return the excess that
    does not (to subtract from the base)."""
    excess = ZERO
    limits = t.item_limits
    counted_items = ps.items
    for item in rec.items:
        cap_limit = limits.get(item.item_type)  # type: ignore[union-attr]
        if cap_limit is None:
            if notes is not None:
                notes.append(ItemExplanation(item.code, item.item_type, item.amount, None, None, ZERO, item.amount))
            continue
        k = (t.index, item.code)
        before = counted_items.get(k)
        if before is None:
            before = acc.item_base.get((ps.psn, t.code, item.code), ZERO)
        room = cap_limit[1] - before
        counted = item.amount if item.amount <= room else (room if room > ZERO else ZERO)
        counted_items[k] = before + counted
        excess += item.amount - counted
        if notes is not None:
            notes.append(ItemExplanation(
                item.code, item.item_type, item.amount, cap_limit[0], cap_limit[1], before, counted
            ))
    return excess


def _explained(
    cp: CompiledPlan, res: Resolution, rec: SettlementRecord, ps: _PersonState, acc: Accumulators
) -> tuple[Decimal, dict[str, Decimal], RecordExplanation]:
    """The same computation as the fast loop in `evaluate`, recording every step."""
    psn = rec.psn_no
    if res.outside is not None:
        reason = res.outside.replace("{enddate}", rec.enddate.isoformat())
        return ZERO, {}, RecordExplanation(reason, ())
    lines: list[LiabilityExplanation] = []
    total = ZERO
    by: dict[str, Decimal] = {}
    for t in res.tariffs:
        li = t.liability
        terms = tuple([(term.sign, term.field, getattr(rec, term.field)) for term in li.base])
        formula = t.base_of(rec)
        notes: list[ItemExplanation] = []
        if t.item_limits is not None and rec.items:
            formula -= _count_items(t, rec, ps, acc, notes)
        base = formula if formula > ZERO else ZERO
        st = ps.lines[t.index]
        if st is None:
            st = [acc.base.get((psn, t.code), ZERO), acc.paid.get((psn, t.code), ZERO)]
            if base > ZERO:  # like the fast path: a zero base touches no total
                ps.lines[t.index] = st
        before, paid_before = st
        after = st[0] = before + base
        ded = t.deductible if t.deductible is not None else ZERO
        lo = before if before > ded else ded
        portions: tuple[BandPortion, ...] = ()
        raw = ZERO
        if after > lo:
            portions = tuple([BandPortion(*p) for p in t.portions(lo, after)])
            raw = t.raw_between(lo, after)
        rounded = amount = raw.quantize(CENT, ROUND_HALF_UP)
        checks: list[tuple[str, str, Decimal | None, Decimal]] = [(t.code, t.name, t.cap, paid_before)]
        for j, limit in t.shared:
            used = ps.shared[j]
            if used is None:
                used = acc.shared_paid.get((psn, cp.shared_codes[j]), ZERO)
            checks.append((cp.shared_codes[j], cp.shared_names[j], limit, used))
        lefts = []
        for _code, _name, limit, used in checks:
            left = None if limit is None else (limit - used if limit > used else ZERO)
            lefts.append(left)
            if left is not None and amount >= left:
                ps.capped = True
                amount = left
        caps = tuple(
            CapCheck(code, name, limit, used, left,
                     applied=left is not None and left == amount and rounded > amount,
                     remaining=None if left is None else left - amount)
            for (code, name, limit, used), left in zip(checks, lefts, strict=True)
        )
        if amount:
            st[1] += amount
            for (j, _limit), check in zip(t.shared, caps[1:], strict=True):
                ps.shared[j] = check.paid_before + amount
            total += amount
            by[t.code] = amount
        remainders = [c.remaining for c in caps if c.remaining is not None]
        lines.append(LiabilityExplanation(
            t.code, t.name, True, None, t.rule, terms, tuple(notes), base, ded, before, after, portions,
            raw, rounded, caps, amount, paid_before, st[1], min(remainders) if remainders else None,
        ))
    for li, reason in res.uncovered:
        lines.append(LiabilityExplanation(liability=li.code, name=li.name, covered=False, reason=reason))
    return total, by, RecordExplanation(None, tuple(lines))


def _merge(
    acc: Accumulators,
    states: dict[str, _PersonState],
    codes: tuple[str, ...],
    shared_codes: tuple[str, ...],
) -> Accumulators:
    """New accumulators: the old totals overlaid with the ones this batch touched."""
    base = dict(acc.base)
    paid = dict(acc.paid)
    shared = dict(acc.shared_paid)
    items = dict(acc.item_base)
    for psn, ps in states.items():
        for index, st in enumerate(ps.lines):
            if st is not None:
                base[(psn, codes[index])] = st[0]
                paid[(psn, codes[index])] = st[1]
        for index, used in enumerate(ps.shared):
            if used is not None:
                shared[(psn, shared_codes[index])] = used
        for (index, code), counted in ps.items.items():
            items[(psn, codes[index], code)] = counted
    return Accumulators.of(base, paid, shared, items)


def evaluate_one(
    plan: Plan | CompiledPlan,
    person: PersonAttributes,
    record: SettlementRecord,
    accumulators: Accumulators | None = None,
    *,
    explain: bool = True,
) -> tuple[RecordResult, Accumulators]:
    """Convenience for a single claim (the caseworker's trial calculation, a slip)."""
    evaluation = evaluate(plan, {record.psn_no: person}, [record], accumulators, explain=explain)
    return evaluation.results[0], evaluation.accumulators

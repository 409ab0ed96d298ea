"""A plan compiled into lookup tables, so the per-record loop does no rule matching.

Rule matching (selectors, first-match rows, caps) depends only on the person's attributes,
the record's codes and its enddate. Those form a small key space, so each distinct key is
resolved once into a tuple of `Tariff`s (one per covering liability) with precomputed band
tables (cumulative payable at each band's lower bound), and cached.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter

from programs.benefit_rules.glossary import (
    AMOUNT_FIELDS,
    CENT,
    PERSON_ATTRIBUTES,
    RECORD_ATTRIBUTES,
    ZERO,
)
from programs.benefit_rules.plan import Amount, Liability, Plan
from programs.benefit_rules.validation import validate_plan

from .records import PersonAttributes, SettlementRecord


class InvalidPlan(ValueError):
    """The plan failed `validate_plan`; the engine refuses to pay by broken rules."""


BaseFunction = Callable[[SettlementRecord], Decimal]


class Tariff:
    """The resolved rules of one liability for one resolution key (hot-loop data)."""

    __slots__ = (
        "index", "code", "name", "liability", "base_of", "deductible", "lows", "rates", "cums",
        "single_rate", "cap", "shared", "item_limits", "row_index", "rule", "hot",
    )

    def __init__(
        self,
        index: int,
        liability: Liability,
        base_of: BaseFunction,
        deductible: Decimal,
        uppers: list[Decimal | None],
        rates: list[Decimal],
        cap: Decimal | None,
        shared: tuple[tuple[int, Decimal], ...],
        item_limits: dict[str, tuple[Decimal, Decimal]] | None,
        row_index: int,
    ) -> None:
        self.index = index  # position of the liability in the plan
        self.code = liability.code
        self.name = liability.name
        self.liability = liability
        self.base_of = base_of
        # None for a zero deductible: the hot loop then skips the deductible comparisons.
        self.deductible = deductible if deductible else None
        # lows[i] is band i's lower bound; cums[i] the raw amount payable up to lows[i].
        lows = [deductible] + [u for u in uppers[:-1] if u is not None]
        cums = [ZERO]
        for i in range(1, len(lows)):
            cums.append(cums[-1] + (lows[i] - lows[i - 1]) * rates[i - 1])
        self.lows = tuple(lows)
        self.rates = tuple(rates)
        self.cums = tuple(cums)
        self.single_rate = rates[0] if len(rates) == 1 else None
        self.cap = cap
        self.shared = shared  # (shared cap index, limit) for each applicable shared cap
        # item type -> (annual item cap, base limit = round(cap / rate, 2))
        self.item_limits = item_limits
        self.row_index = row_index
        self.rule = f"schedule row {row_index + 1}: {liability.schedule[row_index].when.describe()}"
        # What the hot loop reads, as one tuple: unpacking it is cheaper than eight attribute loads.
        self.hot = (
            index, liability.code, base_of, item_limits, self.deductible, self.single_rate, cap, shared, self
        )

    def raw_between(self, lo: Decimal, hi: Decimal) -> Decimal:
        """Exact (unrounded) payable for the cumulative-base interval (lo, hi], lo >= deductible."""
        if self.single_rate is not None:
            return (hi - lo) * self.single_rate
        lows, rates, cums = self.lows, self.rates, self.cums
        i = bisect_right(lows, hi) - 1
        j = bisect_right(lows, lo) - 1
        return (cums[i] + (hi - lows[i]) * rates[i]) - (cums[j] + (lo - lows[j]) * rates[j])

    def portions(self, lo: Decimal, hi: Decimal) -> list[tuple[Decimal, Decimal, Decimal, Decimal]]:
        """(from, to, rate, amount) for each band the interval (lo, hi] touches."""
        out = []
        lows, rates = self.lows, self.rates
        for i, low in enumerate(lows):
            top = lows[i + 1] if i + 1 < len(lows) else None
            start = lo if lo > low else low
            end = hi if top is None or hi < top else top
            if end > start:
                out.append((start, end, rates[i], (end - start) * rates[i]))
        return out


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a record key resolves to: payable tariffs, uncovered liabilities with the reason,
    or a reason why the whole record is outside the plan."""

    tariffs: tuple[Tariff, ...]
    uncovered: tuple[tuple[Liability, str], ...]
    outside: str | None  # may contain "{enddate}", filled in by the explanation
    hot: tuple[tuple, ...] = ()  # Tariff.hot of each tariff

    def __post_init__(self) -> None:
        object.__setattr__(self, "hot", tuple(t.hot for t in self.tariffs))


class CompiledPlan:
    """A validated plan plus its resolution caches. Build with `compile_plan`.

    Only the attributes some rule of the plan tests take part in the cache keys, and the
    enddate is reduced to a segment between the dates where some rule (or the period)
    changes, so a batch resolves rules a few dozen times, not once per record.
    """

    def __init__(self, plan: Plan) -> None:
        errors = validate_plan(plan)
        if errors:
            raise InvalidPlan(f"plan {plan.code} is invalid: " + "; ".join(errors))
        self.plan = plan
        self.params = plan.parameter_values()
        self.codes = tuple(li.code for li in plan.liabilities)
        self.shared_codes = tuple(s.code for s in plan.shared_caps)
        self.shared_names = tuple(s.name for s in plan.shared_caps)
        self.by_kind: dict[str, list[tuple[int, Liability]]] = {}
        for index, li in enumerate(plan.liabilities):
            for kind in li.claim_kinds:
                self.by_kind.setdefault(kind, []).append((index, li))
        self.base_functions = {li.code: _base_function(li) for li in plan.liabilities}
        #: The settlement amount fields some base formula reads (item lines aside), in record
        #: order: the only amounts of a record the evaluation looks at, so a reader may leave
        #: the others out (None, which fails loudly if it is ever read).
        read = {term.field for li in plan.liabilities for term in li.base}
        self.amount_fields = tuple(f for f in AMOUNT_FIELDS if f in read)

        selectors = [s.when for s in plan.shared_caps]
        for li in plan.liabilities:
            selectors.append(li.eligibility)
            selectors.extend(row.when for row in li.schedule)
            selectors.extend(cap.when for cap in li.caps)
        tested: set[str] = set().union(*(sel.attributes() for sel in selectors))
        self.person_attributes = tuple(a for a in PERSON_ATTRIBUTES if a in tested)
        record_attributes = ("claim_kind",) + tuple(a for a in RECORD_ATTRIBUTES[1:] if a in tested)
        self.record_attributes = record_attributes
        #: Cache key of a record: the codes the plan's rules test (the enddate is handled by
        #: `date_breaks`, so that the cache stays small).
        self.record_key: Callable[[SettlementRecord], object] = attrgetter(*record_attributes)
        self.person_key: Callable[[PersonAttributes], object] = (
            attrgetter(*self.person_attributes) if self.person_attributes else (lambda person: ())
        )
        breaks = {plan.period_start, plan.period_end + timedelta(days=1)}
        for sel in selectors:
            if sel.enddate_from is not None:
                breaks.add(sel.enddate_from)
            if sel.enddate_to is not None:
                breaks.add(sel.enddate_to + timedelta(days=1))
        #: Dates where the period starts/ends or some rule's date range changes: all records
        #: between two breaks (a segment, `bisect_right(date_breaks, enddate)`) match alike.
        self.date_breaks = tuple(sorted(breaks))
        # person key -> {record key -> [Resolution or None per date segment]}.
        self.caches: dict[object, dict[object, list[Resolution | None]]] = {}

    def cache_for(self, person: PersonAttributes) -> dict[object, list[Resolution | None]]:
        """The resolution cache shared by all persons with equal tested attributes."""
        key = self.person_key(person)
        cache = self.caches.get(key)
        if cache is None:
            cache = self.caches[key] = {}
        return cache

    def lookup(
        self, person: PersonAttributes, record: SettlementRecord, cache: dict[object, list[Resolution | None]]
    ) -> Resolution:
        """Resolution of a record, resolving and caching it on first sight."""
        key = self.record_key(record)
        entry = cache.get(key)
        if entry is None:
            entry = cache[key] = [None] * (len(self.date_breaks) + 1)
        segment = bisect_right(self.date_breaks, record.enddate)
        res = entry[segment]
        if res is None:
            res = entry[segment] = self.resolve(person, record)
        return res

    def amount(self, value: Amount) -> Decimal:
        """A plan amount in yuan written with 2 dp (parameters resolved); exact, because
        validation refuses amounts with more than two decimals."""
        if not isinstance(value, Decimal):
            value = self.params[value.name]
        return value.quantize(CENT)

    def resolve(self, person: PersonAttributes, record: SettlementRecord) -> Resolution:
        """Match every covering liability's rules against the person and record (slow path).

        Messages depend only on the tested attributes and the date segment, because the
        result is shared by every record with the same key.
        """
        plan = self.plan
        if not (plan.period_start <= record.enddate <= plan.period_end):
            return Resolution((), (), (
                "enddate {enddate} is outside the plan period "
                f"{plan.period_start.isoformat()}..{plan.period_end.isoformat()} of {plan.code}: nothing is payable"
            ))
        liabilities = self.by_kind.get(record.claim_kind)
        if not liabilities:
            return Resolution((), (), f"claim kind {record.claim_kind} is not covered by {plan.code}: nothing is payable")
        values: dict[str, object] = {name: getattr(person, name) for name in PERSON_ATTRIBUTES}
        values.update((name, getattr(record, name)) for name in RECORD_ATTRIBUTES)
        shown = {name: values[name] for name in self.person_attributes + self.record_attributes}
        end = record.enddate
        tariffs: list[Tariff] = []
        uncovered: list[tuple[Liability, str]] = []
        for index, li in liabilities:
            why = li.eligibility.first_mismatch(values, end)
            if why is not None:
                uncovered.append((li, f"not covered: {why}"))
                continue
            row_index = next(
                (i for i, row in enumerate(li.schedule) if row.when.first_mismatch(values, end) is None), None
            )
            if row_index is None:
                uncovered.append((li, f"no schedule row matches ({_describe(shown)})"))
                continue
            cap_index = next(
                (i for i, cap in enumerate(li.caps) if cap.when.first_mismatch(values, end) is None), None
            )
            if cap_index is None:
                uncovered.append((li, f"no cap row matches ({_describe(shown)})"))
                continue
            row = li.schedule[row_index]
            cap_amount = li.caps[cap_index].amount
            rates = [band.rate for band in row.bands]
            item_limits = None
            if li.item_caps:
                item_limits = {}
                for item_cap in li.item_caps:
                    cap_value = self.amount(item_cap.amount)
                    # DOMAIN.md §4.4: the item counts toward the base up to round(cap / rate, 2).
                    limit = (cap_value / rates[0]).quantize(CENT, rounding=ROUND_HALF_UP)
                    item_limits[item_cap.item_type] = (cap_value, limit)
            shared = tuple(
                (j, self.amount(s.amount))
                for j, s in enumerate(plan.shared_caps)
                if li.code in s.liabilities and s.when.first_mismatch(values, end) is None
            )
            tariffs.append(Tariff(
                index=index,
                liability=li,
                base_of=self.base_functions[li.code],
                deductible=self.amount(row.deductible),
                uppers=[None if b.upper is None else self.amount(b.upper) for b in row.bands],
                rates=rates,
                cap=None if cap_amount is None else self.amount(cap_amount),
                shared=shared,
                item_limits=item_limits,
                row_index=row_index,
            ))
        return Resolution(tuple(tariffs), tuple(uncovered), None)

    def required_attributes(self, claim_kind: str) -> set[str]:
        """Record attributes the rules for `claim_kind` test: a record lacking one of them could
        only be refused by the rules, so input parsers ask for it up front."""
        needed: set[str] = set()
        for _index, li in self.by_kind.get(claim_kind, ()):
            needed |= li.eligibility.attributes()
            for row in li.schedule:
                needed |= row.when.attributes()
            for cap in li.caps:
                needed |= cap.when.attributes()
            for shared in self.plan.shared_caps:
                if li.code in shared.liabilities:
                    needed |= shared.when.attributes()
        return needed & set(RECORD_ATTRIBUTES[1:])


def _describe(values: dict[str, object]) -> str:
    return ", ".join(
        f"{k}={'missing' if v is None else str(v).lower() if isinstance(v, bool) else v}"
        for k, v in values.items()
    )


def _base_function(li: Liability) -> BaseFunction:
    """A fast accessor computing the (unclamped) base formula of a liability."""
    plus = [t.field for t in li.base if t.sign > 0]
    minus = [t.field for t in li.base if t.sign < 0]
    if len(plus) == 1 and not minus:
        return attrgetter(plus[0])
    if len(plus) == 1 and len(minus) == 1:
        get_p, get_m = attrgetter(plus[0]), attrgetter(minus[0])
        return lambda r: get_p(r) - get_m(r)
    getters = tuple((attrgetter(f), 1) for f in plus) + tuple((attrgetter(f), -1) for f in minus)

    def base_of(record: SettlementRecord) -> Decimal:
        total = ZERO
        for get, sign in getters:
            total = total + get(record) if sign > 0 else total - get(record)
        return total

    return base_of


def compile_plan(plan: Plan) -> CompiledPlan:
    """The compiled form of `plan`, memoised on the (immutable) plan object so a plan loaded
    once (e.g. cached by the Django layer) is validated and compiled once."""
    compiled = plan.__dict__.get("_compiled")
    if compiled is None:
        compiled = CompiledPlan(plan)
        object.__setattr__(plan, "_compiled", compiled)
    return compiled

"""Renewal simulation (测算, issue 22): a contract year's stored settlements run again under a
scenario — a draft plan document (the engine's format) and optionally other per-capita
premiums — side by side with the year under its own plan.

The settlements are evaluated under two plans (the contract's and the scenario's) in the order
the recomputation uses (person, discharge date, settlement time, id), with each person's
attributes as they stood on each discharge date; records discharged where the person was not
covered pay nothing under either plan. Nothing is written. One read of the year, as columns
with only the amounts the two plans read (`_column_rows`), feeds the columnar engine
(`claims.engine.columnar`) for the common person; the persons whose attributes, area or
suspension change during the year are read again in the engine's record layout
(`_record_rows`) and go through `Evaluator`. (The year's stored recomputation,
`SettlementCheck`, is not used for the actual side: nothing records when a person's registry
data changed, so a stored check cannot be proven current.)

Figures (all Decimal, yuan):
- payable per liability, per area, per category, per hospital level; the payouts per person
  (for the histogram) and the persons whose payments reached a cap;
- premium = Σ per-capita × headcount (the schedule's current headcounts), loss ratio =
  payable / premium, surplus rate = (premium − payable) / premium (DOMAIN.md §5's clearing rate);
- the **suggested per-capita premium** for a target surplus rate s (or loss ratio L): the
  premium that yields it is payable / (1 − s) (or payable / L); spread over the paying
  headcount (categories whose per-capita premium is not zero) and rounded UP to the fen, so
  the suggested premium reaches the target and one fen less does not.
"""

from __future__ import annotations

import json
import queue
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import BigIntegerField, CharField, F, Func, QuerySet, TextField, Value
from django.db.models.functions import Cast, NullIf
from django.db.models.sql.constants import MULTI
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from claims.engine import Evaluator, compile_plan
from claims.engine.columnar import KEY_FIELDS, Columns, Unsupported, evaluate_columns, fen
from claims.engine.records import DatedAttributes, ItemLine, PersonAttributes, SettlementRecord
from claims.models import Settlement
from claims.services import engine_attributes, plan_of
from finance.models import PremiumSchedule
from insurance_admin.core.money import CENT, exact, to_amount
from programs.benefit_rules.glossary import AMOUNT_FIELDS
from programs.benefit_rules.plan_dict import PlanFormatError, plan_from_dict
from programs.coverage import coverage_timelines
from programs.models import Area, Contract, Enrollment

from .selectors import current_headcounts

ZERO = Decimal("0")
RATE = Decimal("0.0001")  # ratios are shown to a hundredth of a percent
# The query hands each settlement over in the engine's record layout (`_record_rows`): the
# row is the record, items last (None when there are none).
_ITEMS = len(SettlementRecord._fields) - 1
assert SettlementRecord._fields[:8] == ("setl_id", "psn_no", "enddate", "claim_kind", "place", "hosp_lv", "designated",
                                        "drug_list")
assert SettlementRecord._fields[8:_ITEMS] == AMOUNT_FIELDS and SettlementRecord._fields[_ITEMS] == "items"
#: Bounds (yuan) of the payout histogram's bins: [0, 1,000), [1,000, 5,000), … [200,000, ∞).
HISTOGRAM_BOUNDS = tuple(Decimal(b) for b in (1000, 5000, 10000, 20000, 50000, 100000, 200000))


@dataclass
class Scenario:
    plan: Mapping  # the plan document, as BenefitPlan.rules holds it
    per_capita: Mapping[str, Decimal] | None = None  # category → per-capita premium; None: the contract's
    target_surplus_rate: Decimal | None = None  # e.g. Decimal("0.03"); or
    target_loss_ratio: Decimal | None = None


@dataclass
class Side:
    """One plan's figures over the year."""

    payable: Decimal = ZERO
    by_liability: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    by_area: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    by_category: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    by_hosp_lv: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    per_person: dict[int, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    persons_at_cap: int = 0
    premium: Decimal | None = None
    loss_ratio: Decimal | None = None
    surplus_rate: Decimal | None = None

    def histogram(self) -> list[tuple[str, int]]:
        counts = Counter()
        for amount in self.per_person.values():
            if amount > ZERO:
                counts[sum(1 for b in HISTOGRAM_BOUNDS if amount >= b)] += 1
        labels = [f"< {HISTOGRAM_BOUNDS[0]:,}"]
        labels += [f"{lo:,}–{hi:,}" for lo, hi in zip(HISTOGRAM_BOUNDS, HISTOGRAM_BOUNDS[1:], strict=False)]
        labels.append(f"≥ {HISTOGRAM_BOUNDS[-1]:,}")
        return [(label, counts[i]) for i, label in enumerate(labels)]

    def as_dict(self) -> dict:
        return {
            "payable": str(self.payable),
            "by_liability": {k: str(v) for k, v in sorted(self.by_liability.items())},
            "by_area": {k: str(v) for k, v in sorted(self.by_area.items())},
            "by_category": {k: str(v) for k, v in sorted(self.by_category.items())},
            "by_hosp_lv": {k: str(v) for k, v in sorted(self.by_hosp_lv.items())},
            "persons_paid": sum(1 for v in self.per_person.values() if v > ZERO),
            "persons_at_cap": self.persons_at_cap,
            "premium": None if self.premium is None else str(self.premium),
            "loss_ratio": None if self.loss_ratio is None else str(self.loss_ratio),
            "surplus_rate": None if self.surplus_rate is None else str(self.surplus_rate),
        }


@dataclass
class SimulationResult:
    contract: Contract
    records: int
    not_covered: int
    actual: Side
    scenario: Side
    headcount: dict[str, int]  # category → headcount the premium is computed on
    suggested_per_capita: Decimal | None
    suggestion_formula: str

    def as_dict(self) -> dict:
        return {
            "contract": self.contract.code,
            "records": self.records,
            "not_covered": self.not_covered,
            "actual": self.actual.as_dict(),
            "scenario": self.scenario.as_dict(),
            "headcount": dict(sorted(self.headcount.items())),
            "suggested_per_capita": None if self.suggested_per_capita is None else str(self.suggested_per_capita),
        }


def _record_rows(settled: QuerySet, amount_fields: set[str]) -> QuerySet:
    """The settlements as rows laid out like `SettlementRecord` (what `claims.services.row_record`
    makes of a `ROW_FIELDS` row): the person's id as text (the engine's key), '' as None, the
    amounts `amount_fields` (the others NULL: no plan reads them, and the engine fails loudly
    on None if one did), the item lines as JSON text or None; in the recomputation's order."""
    columns = {
        "r_psn": Cast("person_id", CharField()),
        "r_place": NullIf("place", Value("")),
        "r_hosp_lv": NullIf("hosp_lv", Value("")),
        "r_drug_list": NullIf("drug_list", Value("")),
        "r_items": NullIf(Cast("items", TextField()), Value("[]", output_field=TextField())),
    }
    columns.update({f"r_{f}": Value(None, output_field=CharField()) for f in AMOUNT_FIELDS if f not in amount_fields})
    names = ["setl_id", "r_psn", "enddate", "claim_kind", "r_place", "r_hosp_lv", "designated", "r_drug_list",
             *(f if f in amount_fields else f"r_{f}" for f in AMOUNT_FIELDS), "r_items"]
    return (settled.annotate(**columns).order_by("person_id", "enddate", "setl_time", "id").values_list(*names))


def _chunks(rows: QuerySet, chunk_size: int):
    """Lists of up to `chunk_size` rows of a values_list queryset. Where no column needs a
    conversion in Python (PostgreSQL: the rows are what the driver decoded) each list is the
    server-side cursor's own fetch, handed over as it is; elsewhere (SQLite converts decimals,
    dates and booleans) the rows go through Django's converters and are gathered here."""
    # Django's compiler is used directly (what QuerySet.iterator does inside) to get the
    # driver's fetches as lists, instead of gathering a million rows one at a time.
    compiler = rows.query.get_compiler(rows.db)
    chunked = not connections[rows.db].settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    fetches = compiler.execute_sql(MULTI, chunked_fetch=chunked, chunk_size=chunk_size)
    if fetches is None:  # an empty result set
        return
    if not compiler.get_converters([s[0] for s in compiler.select[:compiler.col_count]]):
        yield from fetches
        return
    chunk: list[tuple] = []
    for row in compiler.results_iter(fetches, tuple_expected=True):
        chunk.append(row)
        if len(chunk) == chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _record(row: tuple, _new=tuple.__new__, _record_type=SettlementRecord, _no_items=((),)) -> SettlementRecord:
    """The engine's record of a `_record_rows` row (what `claims.services.row_record` makes of
    the settlement's `ROW_FIELDS` row); item lines from their JSON as the JSON field reads them
    (json.loads, then Decimal(str(amount)))."""
    items = row[_ITEMS]
    if items is None:
        return _new(_record_type, row[:_ITEMS] + _no_items)
    lines = tuple(ItemLine(str(i["code"]), str(i["type"]), Decimal(str(i["amount"]))) for i in json.loads(items))
    return _new(_record_type, (*row[:_ITEMS], lines))


def scenario_plan(document: Mapping):
    """The engine's plan from a scenario's document; a malformed one is refused with the
    engine's message naming the place (liability, band) that is wrong."""
    try:
        return plan_from_dict(document)
    except (PlanFormatError, ValueError, TypeError, KeyError) as exc:
        raise ValidationError(_("The scenario's benefit plan is not valid: %(error)s") % {"error": exc},
                              code="plan") from None


def _headcounts(contract: Contract) -> tuple[dict[str, int], dict[str, Decimal]]:
    """(category → headcount, category → per-capita) of the contract's premium schedule: the
    current headcounts summed over the areas."""
    schedule = PremiumSchedule.objects.filter(contract=contract).first()
    if schedule is None:
        return {}, {}
    totals: Counter = Counter()
    for counts in current_headcounts(schedule).values():
        for category, n in counts.items():
            totals[category] += int(n)
    return dict(totals), {k: Decimal(str(v)) for k, v in schedule.per_capita.items()}


def _premium(per_capita: Mapping[str, Decimal], headcount: Mapping[str, int]) -> Decimal | None:
    if not headcount or any(c not in per_capita for c in headcount):
        return None
    with exact():
        total = sum((Decimal(per_capita[c]) * n for c, n in headcount.items()), ZERO)
    return total.quantize(CENT)


def _ratios(side: Side) -> None:
    if side.premium:
        side.loss_ratio = (side.payable / side.premium).quantize(RATE)
        side.surplus_rate = ((side.premium - side.payable) / side.premium).quantize(RATE)


def suggested_per_capita(payable: Decimal, paying_headcount: int, *, surplus_rate: Decimal | None = None,
                         loss_ratio: Decimal | None = None) -> Decimal | None:
    """The per-capita premium (rounded up to the fen) whose premium reaches the target."""
    if paying_headcount <= 0:
        return None
    with exact():
        if surplus_rate is not None:
            if not ZERO <= surplus_rate < 1:
                raise ValidationError(_("The target surplus rate must lie between 0 and 100 %."), code="target")
            needed = payable / (1 - surplus_rate)
        elif loss_ratio is not None:
            if loss_ratio <= 0:
                raise ValidationError(_("The target loss ratio must be above 0."), code="target")
            needed = payable / loss_ratio
        else:
            return None
        return (needed / paying_headcount).quantize(CENT, ROUND_CEILING)


class _Fen(Func):
    """An amount (yuan, two decimals) in fen, as the integer the database returns: no
    conversion in Python (a row then reaches the simulation exactly as the driver decoded it)."""

    template = "CAST(ROUND(%(expressions)s * 100) AS BIGINT)"
    output_field = BigIntegerField()

    @cached_property
    def convert_value(self):
        return self._convert_value_noop


def _column_rows(settled: QuerySet, amount_fields: tuple[str, ...], with_items: bool = False) -> QuerySet:
    """The settlements for the columnar engine: the person's id, the discharge date, the record
    codes as the engine's records hold them ('' as None) and the amounts the plans read in fen
    (integers: exact, the amounts having two decimals), in the recomputation's order."""
    columns = {
        "r_place": NullIf("place", Value("")),
        "r_hosp_lv": NullIf("hosp_lv", Value("")),
        "r_drug_list": NullIf("drug_list", Value("")),
    }
    columns.update({f"fen_{f}": _Fen(F(f)) for f in amount_fields})
    names = ["person_id", "enddate", "claim_kind", "r_place", "r_hosp_lv", "designated", "r_drug_list",
             *(f"fen_{f}" for f in amount_fields)]
    if with_items:  # the item lines as JSON text, None when there are none
        columns["r_items"] = NullIf(Cast("items", TextField()), Value("[]", output_field=TextField()))
        names.append("r_items")
    return settled.annotate(**columns).order_by("person_id", "enddate", "setl_time", "id").values_list(*names)


class _Codes(dict):
    """value -> a small integer, given on first sight (`map(codes.__getitem__, column)`)."""

    def __missing__(self, value):
        code = self[value] = len(self)
        return code


class _Prefetch:
    """The chunks of a query, read ahead by a second thread on its own database connection
    when that is possible: started before the coverage timelines are loaded, the database
    sorts and sends the settlements while this thread builds the timelines and then converts
    the fetches (the driver releases the interpreter while it waits). At most `ahead` fetches
    wait in memory. Read in this thread instead inside a transaction (a second connection would
    not see its rows) and where the rows are not fetched in chunks by the server (SQLite)."""

    _END = object()

    def __init__(self, rows: QuerySet, chunk_size: int, ahead: int = 2) -> None:
        connection = connections[rows.db]
        self.rows, self.chunk_size = rows, chunk_size
        self.threaded = (not connection.in_atomic_block
                         and not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
                         and connection.vendor == "postgresql")
        self.stop = threading.Event()
        self.queue: queue.Queue = queue.Queue(maxsize=ahead)
        self.thread = None
        if self.threaded:
            self.thread = threading.Thread(target=self._produce, name="simulation-read", daemon=True)
            self.thread.start()

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for chunk in _chunks(self.rows, self.chunk_size):
                if not self._put(chunk):
                    return
            self._put(self._END)
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._put(exc)
        finally:
            connections.close_all()  # this thread's connections only

    def __iter__(self):
        if not self.threaded:
            yield from _chunks(self.rows, self.chunk_size)
            return
        while True:
            item = self.queue.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()


def _read_columns(chunks: _Prefetch, amount_fields: tuple[str, ...], with_items: bool,
                  progress: Callable[[int], None]) -> tuple[dict[str, np.ndarray], list[tuple], dict]:
    """The rows of `_column_rows` as numpy columns: person id, discharge date (ordinal), the
    record codes as one key (an index into the returned list of distinct code tuples,
    `KEY_FIELDS` order) and the amounts in fen; with `with_items`, the rows' item lines (row →
    (code, type, amount in fen)) of the rows that have some. Each fetch is converted as it
    arrives, so only the fetches read ahead are ever held as Python objects."""
    codes = [_Codes() for _ in KEY_FIELDS]
    names = ("person", "enddate", *KEY_FIELDS, *amount_fields)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    toordinal = date.toordinal
    items: dict[int, tuple] = {}
    done = 0
    for chunk in chunks:
        n = len(chunk)
        cols = list(zip(*chunk, strict=True))
        del chunk
        parts["person"].append(np.array(cols[0], dtype=np.int64))
        parts["enddate"].append(np.fromiter(map(toordinal, cols[1]), dtype=np.int32, count=n))
        for i, name in enumerate(KEY_FIELDS):
            parts[name].append(np.fromiter(map(codes[i].__getitem__, cols[2 + i]), dtype=np.int32, count=n))
        for i, name in enumerate(amount_fields, start=2 + len(KEY_FIELDS)):
            parts[name].append(np.array(cols[i], dtype=np.int64))
        if with_items:
            for i, text in enumerate(cols[-1]):
                if text is not None:
                    items[done + i] = _item_lines(text)
        del cols
        done += n
        progress(n)
    columns = {}
    for name in names:  # each column joined, its parts let go at once
        chunks = parts.pop(name)
        columns[name] = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        del chunks
    # one key per distinct combination of the codes
    combined = np.zeros(len(columns["person"]), dtype=np.int64)
    for i, name in enumerate(KEY_FIELDS):
        combined *= max(len(codes[i]), 1)
        combined += columns.pop(name)
    distinct, inverse = np.unique(combined, return_inverse=True)
    del combined
    columns["key"] = inverse.astype(np.int32)
    del inverse
    values = [list(c) for c in codes]
    keys = []
    for number in distinct.tolist():
        key = []
        for i in reversed(range(len(KEY_FIELDS))):
            number, code = divmod(number, max(len(codes[i]), 1))
            key.append(values[i][code])
        keys.append(tuple(reversed(key)))
    return columns, keys, items


def _item_lines(text: str) -> tuple[tuple[str, str, int], ...]:
    """A row's item lines (JSON) as the columnar engine reads them: what `_record` makes of
    them (json.loads, then Decimal(str(amount))), the amount in fen."""
    return tuple((str(i["code"]), str(i["type"]), fen(Decimal(str(i["amount"])))) for i in json.loads(text))


def _yuan(fen: int) -> Decimal:
    return Decimal(int(fen)).scaleb(-2)


def _sum_by(ids: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, ids, values)
    return out


@dataclass
class _Totals:
    """One plan's payouts as both passes add them up: per (place, hospital level) cell, per
    person, per liability, and the persons who reached a cap."""

    cells: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))
    per_person: dict[int, Decimal] = field(default_factory=dict)
    per_code: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    at_cap: int = 0


def _columnar_pass(chunks: _Prefetch, fields: tuple[str, ...], with_items: bool, plans: tuple, persons: Mapping,
                   simple: Mapping, timeline_by_key: Mapping, totals: tuple[_Totals, _Totals],
                   advance: Callable[[int], None]) -> tuple[set[int], int]:
    """Evaluate the common persons' records in columns under both plans and add the payouts to
    `totals`. Returns the persons left to the record-by-record engine (dated states,
    suspensions: their place and attributes change within the year) and the number of
    records of nobody covered among the others."""
    cols, keys, items = _read_columns(chunks, fields, with_items, advance)
    pid, enddate = cols["person"], cols["enddate"]
    simple_keys = list(simple)
    ids = np.fromiter(map(int, simple_keys), dtype=np.int64, count=len(simple_keys))
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    windows = list(simple.values())
    toordinal = date.toordinal
    opens = np.fromiter(map(toordinal, (w[0] for w in windows)), dtype=np.int64, count=len(windows))[order]
    closes = np.fromiter(map(toordinal, (w[1] for w in windows)), dtype=np.int64, count=len(windows))[order]
    place_ids = _Codes()
    place_of = np.fromiter(map(place_ids.__getitem__, (w[2] for w in windows)), dtype=np.int64,
                           count=len(windows))[order]
    simple_keys = [simple_keys[i] for i in order.tolist()]
    dated = np.array(sorted(map(int, timeline_by_key)), dtype=np.int64)  # the persons not `simple`
    if len(ids):
        pos = np.minimum(np.searchsorted(ids, pid), len(ids) - 1)
        is_simple = ids[pos] == pid
        within = is_simple & (opens[pos] <= enddate) & (enddate <= closes[pos])
    else:
        pos = np.zeros(len(pid), dtype=np.int64)
        is_simple = within = np.zeros(len(pid), dtype=bool)
    is_dated = np.isin(pid, dated)
    fallback = {int(i) for i in np.unique(pid[is_dated])}
    not_covered = int((~is_simple & ~is_dated).sum()) + int((is_simple & ~within).sum())
    rows = np.flatnonzero(within)
    person = pos[rows]
    if items:  # renumbered to the evaluated rows
        kept = np.searchsorted(rows, np.fromiter(items, dtype=np.int64, count=len(items)))
        items = {int(new): lines for new, (old, lines) in zip(kept.tolist(), items.items(), strict=True)
                 if new < len(rows) and rows[new] == old}
    columns = Columns(person=person, persons=[persons[k] for k in simple_keys], enddate=enddate[rows],
                      key=cols["key"][rows], keys=keys, amounts={f: cols[f][rows] for f in fields}, items=items)
    del cols, pid, enddate, pos, is_simple, within, is_dated
    levels: dict[str, int] = {}
    level_of_key = np.array([levels.setdefault(k[2] or "—", len(levels)) for k in keys] or [0], dtype=np.int64)
    width = max(len(levels), 1)
    cell = place_of[person] * width + level_of_key[columns.key]
    place_list, level_list = list(place_ids), list(levels)
    for cp, t in zip(plans, totals, strict=True):
        result = evaluate_columns(cp, columns)
        sums = _sum_by(cell, result.payable, len(place_list) * width)
        for index in np.flatnonzero(sums).tolist():
            place, level = divmod(index, width)
            t.cells[(place_list[place], level_list[level])] += _yuan(sums[index])
        per_person = np.zeros(len(ids), dtype=np.int64)
        for code, paid_by in result.by_liability.items():
            per_person += paid_by
            paid = int(paid_by.sum())
            if paid:
                t.per_code[code] += _yuan(paid)
        for index in np.flatnonzero(per_person).tolist():
            t.per_person[int(ids[index])] = _yuan(per_person[index])
        t.at_cap += int(result.capped.sum())
        del result
    return fallback, not_covered


def _record_pass(settled: QuerySet, fields: tuple[str, ...], plans: tuple, persons: Mapping, simple: Mapping,
                 timeline_by_key: Mapping, area_names: Mapping, shared: dict, totals: tuple[_Totals, _Totals],
                 chunk_size: int, advance: Callable[[int], None] | None, only: set[int] | None) -> int:
    """Evaluate records one by one (`Evaluator`) under both plans — every settlement, or only
    the persons `only` — and add the payouts to `totals`. Returns the records of nobody covered."""
    engines = tuple(Evaluator(cp, persons) for cp in plans)
    not_covered = 0
    fixed_places: dict[str, tuple[str, str]] = {}

    def where(key: str, enddate) -> tuple[str, str]:
        """(area name, category) of a person with dated states on the record's discharge date;
        computed once per person unless their area or attributes change during the year."""
        place = fixed_places.get(key)
        if place is not None:
            return place
        timeline = timeline_by_key[key]
        attributes = persons[key]
        dated = isinstance(attributes, DatedAttributes)
        if dated:
            attributes = attributes.on(enddate)
        area_id = timeline.on(enddate).area_id if timeline.periods else timeline.enrollment["area_id"]
        place = area_names.get(area_id, "—"), attributes.category or "—"
        place = shared.setdefault(place, place)
        if not dated and not timeline.periods:
            fixed_places[key] = place
        return place

    # Per side: payable per ((area, category), hospital level); the breakdowns are summed from
    # these at the end, the payouts per person and per liability read from the engine's totals.
    cells = tuple(t.cells for t in totals)

    def feed(chunk: list[tuple]) -> None:
        """One pass builds what both plans share (records, places); then each plan runs and
        its payouts are added up per cell."""
        nonlocal not_covered
        records_, places = [], []
        add_record, add_place = records_.append, places.append
        simple_of, timeline_of = simple.get, timeline_by_key.get
        new, record_type, no_items = tuple.__new__, SettlementRecord, ((),)
        skipped = 0
        for row in chunk:
            key, enddate = row[1], row[2]
            window = simple_of(key)
            if window is not None:
                start, end, place = window
                if not start <= enddate <= end:
                    skipped += 1
                    continue
            else:
                timeline = timeline_of(key)
                if timeline is None or not timeline.covers(enddate):
                    skipped += 1
                    continue
                place = where(key, enddate)
            add_place((place, row[5] or "—"))
            # `_record`, inlined: it runs for every row
            add_record(new(record_type, row[:_ITEMS] + no_items) if row[_ITEMS] is None else _record(row))
        not_covered += skipped
        if not records_:
            return
        for evaluator, cell in zip(engines, cells, strict=True):
            for place, payable in zip(places, evaluator.run(records_).payables, strict=True):
                if payable:
                    cell[place] += payable

    if only is None:
        selections = [settled]
    else:  # the persons in batches (a database limits the parameters of one query)
        ids = sorted(only)
        selections = [settled.filter(person_id__in=ids[i:i + chunk_size]) for i in range(0, len(ids), chunk_size)]
    for selection in selections:
        for chunk in _chunks(_record_rows(selection, set(fields)), chunk_size):
            feed(chunk)
            if advance:
                advance(len(chunk))
    for evaluator, t in zip(engines, totals, strict=True):
        t.at_cap += len(evaluator.persons_at_cap())
        per_person, per_code = evaluator.paid_in_run()
        t.per_person.update((int(key), amount) for key, amount in per_person.items())
        for code, amount in per_code.items():
            t.per_code[code] += amount
    return not_covered


def _persons(contract: Contract, settled: QuerySet, total: int, chunk_size: int):
    """(persons, simple, timeline_by_key, area_names, shared) of the year's claimants: the
    engine's attributes per person (keyed as the engine keys them, the id as text); for the
    common person — no dated states, not suspended — the covered window and the (area,
    category) place (`simple`), so that a record needs no call to be placed; the coverage
    timelines of the others. Equal attribute sets and places are shared objects (`shared`)."""
    # A region enrolls millions and a year's claimants are far fewer: then only the claimants'
    # timelines are loaded (memory grows with them alone). Where the enrolled are fewer than the
    # settlements, one pass over all enrollments is cheaper than a semi-join over the settlements.
    enrolled = Enrollment.objects.in_force().filter(contract=contract).count()
    timelines = coverage_timelines(contract=contract, chunk_size=chunk_size,
                                   person_ids=None if enrolled <= total else settled.values("person_id"))
    area_names = dict(Area.objects.values_list("pk", "name"))
    shared: dict = {}
    persons: dict[str, PersonAttributes | DatedAttributes] = {}
    simple: dict[str, tuple] = {}
    timeline_by_key = {}
    suspended = Enrollment.Status.SUSPENDED
    for person_id, timeline in timelines.items():
        key = str(person_id)
        e = timeline.enrollment
        if timeline.periods or e is None or e["status"] == suspended:
            timeline_by_key[key] = timeline  # the only timelines kept: the others are `simple`
            attributes = engine_attributes(timeline)
            persons[key] = shared.setdefault(attributes, attributes)
            continue
        # `engine_attributes` of a timeline without dated states: the enrollment's one set
        values = (e["category"], e["employment"], e["health"], e["continuous_no_claim_3y"], e["student"])
        attributes = shared.get(values)
        if attributes is None:
            attributes = shared[values] = PersonAttributes(*values)
        persons[key] = attributes
        # `CoverageTimeline.covers` of such a timeline: the year, from the enrollment to its end
        start = max(timeline.period_start, e["enrolled_from"])
        end = timeline.period_end if e["enrolled_to"] is None else min(timeline.period_end, e["enrolled_to"])
        place = area_names.get(e["area_id"], "—"), attributes.category or "—"
        simple[key] = (start, end, shared.setdefault(place, place))
    return persons, simple, timeline_by_key, area_names, shared


def simulate(contract: Contract, scenario: Scenario, *, chunk_size: int = 5000,
             progress: Callable[[int, int], None] | None = None, columnar: bool = True) -> SimulationResult:
    """Run the contract year's stored settlements under its own plan and under `scenario`.

    The common persons' year is evaluated in columns (`claims.engine.columnar`, integer fen, to
    the fen what the record-by-record engine gives); the persons whose attributes, area or
    suspension change during the year go through `Evaluator`, and so does everyone where the
    columns cannot be exact (an amount with more than two decimals, a base beyond the integer
    range). `columnar=False` runs everything through `Evaluator`."""
    own = compile_plan(plan_of(contract).engine_plan())
    other = compile_plan(scenario_plan(scenario.plan))
    settled = Settlement.objects.filter(contract=contract)
    total = settled.count()
    fields = tuple(f for f in AMOUNT_FIELDS if f in set(own.amount_fields) | set(other.amount_fields))
    with_items = any(li.item_caps for cp in (own, other) for li in cp.plan.liabilities)
    # the settlements are read from now on (where a second connection can), the persons meanwhile
    chunks = _Prefetch(_column_rows(settled, fields, with_items), chunk_size) if columnar else None
    totals = (_Totals(), _Totals())
    records = not_covered = 0

    def advance(n: int) -> None:
        nonlocal records
        records += n
        if progress:
            progress(records, total)

    try:
        persons, simple, timeline_by_key, area_names, shared = _persons(contract, settled, total, chunk_size)
        fallback = None  # every person
        if chunks is not None:
            try:
                fallback, not_covered = _columnar_pass(chunks, fields, with_items, (own, other), persons, simple,
                                                       timeline_by_key, totals, advance)
            except Unsupported:
                totals, records, not_covered = (_Totals(), _Totals()), 0, 0
    finally:
        if chunks is not None:
            chunks.close()
    if fallback is None or fallback:
        not_covered += _record_pass(settled, fields, (own, other), persons, simple, timeline_by_key, area_names,
                                    shared, totals, chunk_size, advance if fallback is None else None, fallback)
    liability_names = {li.code: li.name for plan in (own.plan, other.plan) for li in plan.liabilities}
    if progress and not records:
        progress(records, total)
    sides = (Side(), Side())
    for side, t in zip(sides, totals, strict=True):
        side.persons_at_cap = t.at_cap
        for ((area, category), hosp_lv), amount in t.cells.items():
            side.payable += amount
            side.by_area[area] += amount
            side.by_category[category] += amount
            side.by_hosp_lv[hosp_lv] += amount
        side.per_person.update(t.per_person)
        for code, amount in t.per_code.items():
            side.by_liability[liability_names.get(code, code)] += amount

    headcount, own_rates = _headcounts(contract)
    rates = {k: to_amount(v, f"per-capita premium of {k}") for k, v in (scenario.per_capita or own_rates).items()}
    sides[0].premium = _premium(own_rates, headcount)
    sides[1].premium = _premium(rates, headcount)
    for side in sides:
        _ratios(side)
    paying = sum(n for c, n in headcount.items() if rates.get(c, ZERO) > ZERO) or sum(headcount.values())
    suggestion = suggested_per_capita(sides[1].payable, paying, surplus_rate=scenario.target_surplus_rate,
                                      loss_ratio=scenario.target_loss_ratio)
    if scenario.target_surplus_rate is not None:
        formula = _("per-capita premium = payable ÷ (1 − target surplus rate) ÷ paying headcount, rounded up to the fen")
    elif scenario.target_loss_ratio is not None:
        formula = _("per-capita premium = payable ÷ target loss ratio ÷ paying headcount, rounded up to the fen")
    else:
        formula = ""
    return SimulationResult(contract, records, not_covered, sides[0], sides[1], headcount, suggestion, formula)

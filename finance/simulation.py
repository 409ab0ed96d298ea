"""Renewal simulation (测算, issue 22): a contract year's stored settlements run again under a
scenario — a draft plan document (the engine's format) and optionally other per-capita
premiums — side by side with the year under its own plan.

One pass over the settlements feeds two engines (the contract's plan and the scenario's), in
the order the recomputation uses (person, discharge date, settlement time, id), with each
person's attributes as they stood on each discharge date; records discharged where the person
was not covered pay nothing under either plan. Nothing is written. The settlements are read
in the engine's record layout with only the amount columns the two plans read (the year's
stored recomputation, `SettlementCheck`, is not used for the actual side: nothing records when a
person's registry data changed, so a stored check cannot be proven current).

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
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import CharField, QuerySet, TextField, Value
from django.db.models.functions import Cast, NullIf
from django.db.models.sql.constants import MULTI
from django.utils.translation import gettext as _

from claims.engine import Evaluator, compile_plan
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


def simulate(contract: Contract, scenario: Scenario, *, chunk_size: int = 5000,
             progress: Callable[[int, int], None] | None = None) -> SimulationResult:
    """Run the contract year's stored settlements under its own plan and under `scenario`."""
    own = compile_plan(plan_of(contract).engine_plan())
    other = compile_plan(scenario_plan(scenario.plan))
    settled = Settlement.objects.filter(contract=contract)
    total = settled.count()
    # A region enrolls millions and a year's claimants are far fewer: then only the claimants'
    # timelines are loaded (memory grows with them alone). Where the enrolled are fewer than the
    # settlements, one pass over all enrollments is cheaper than a semi-join over the settlements.
    enrolled = Enrollment.objects.in_force().filter(contract=contract).count()
    timelines = coverage_timelines(contract=contract, chunk_size=chunk_size,
                                   person_ids=None if enrolled <= total else settled.values("person_id"))
    area_names = dict(Area.objects.values_list("pk", "name"))
    # Per person (keyed as the engine keys them, the id as text): the engine's attributes, and
    # for the common person — no dated states, not suspended — the covered window and the
    # (area, category) place, so that a record needs no call to be placed. Equal attribute
    # sets and places are shared objects.
    shared: dict = {}
    persons: dict[str, PersonAttributes | DatedAttributes] = {}
    simple: dict[str, tuple] = {}
    timeline_by_key = {}
    suspended = Enrollment.Status.SUSPENDED
    for person_id, timeline in timelines.items():
        key = str(person_id)
        timeline_by_key[key] = timeline
        e = timeline.enrollment
        if timeline.periods or e is None or e["status"] == suspended:
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
    engines = (Evaluator(own, persons), Evaluator(other, persons))
    sides = (Side(), Side())
    liability_names = {li.code: li.name for plan in (own.plan, other.plan) for li in plan.liabilities}
    records = not_covered = 0

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
    cells = (defaultdict(lambda: ZERO), defaultdict(lambda: ZERO))

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

    rows = _record_rows(settled, set(own.amount_fields) | set(other.amount_fields))
    for chunk in _chunks(rows, chunk_size):
        feed(chunk)
        records += len(chunk)
        if progress:
            progress(records, total)
    if progress and not records:
        progress(records, total)
    for evaluator, side, cell in zip(engines, sides, cells, strict=True):
        side.persons_at_cap = len(evaluator.persons_at_cap())
        for ((area, category), hosp_lv), amount in cell.items():
            side.payable += amount
            side.by_area[area] += amount
            side.by_category[category] += amount
            side.by_hosp_lv[hosp_lv] += amount
        per_person, per_code = evaluator.paid_in_run()
        side.per_person.update((int(key), amount) for key, amount in per_person.items())
        for code, amount in per_code.items():
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

"""Renewal simulation (测算, issue 22): a contract year's stored settlements run again under a
scenario — a draft plan document (the engine's format) and optionally other per-capita
premiums — side by side with the year under its own plan.

One pass over the settlements feeds two engines (the contract's plan and the scenario's), in
the order the recomputation uses (person, discharge date, settlement time, id), with each
person's attributes as they stood on each discharge date; records discharged where the person
was not covered pay nothing under either plan. Nothing is written.

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

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from claims.engine import Evaluator
from claims.engine.records import DatedAttributes, SettlementRecord
from claims.models import Settlement
from claims.services import ROW_FIELDS, engine_attributes, plan_of, row_record
from finance.models import PremiumSchedule
from insurance_admin.core.money import CENT, exact, to_amount
from programs.benefit_rules.plan_dict import PlanFormatError, plan_from_dict
from programs.coverage import coverage_timelines
from programs.models import Area, Contract, Enrollment

from .selectors import current_headcounts

ZERO = Decimal("0")
RATE = Decimal("0.0001")  # ratios are shown to a hundredth of a percent
_ID, _PERSON, _ENDDATE, _HOSP_LV, _ITEMS = (ROW_FIELDS.index(f) for f in ("id", "person_id", "enddate", "hosp_lv", "items"))
_AMOUNTS = _ITEMS + 1
# `_record` builds records positionally, as `row_record` does.
assert ROW_FIELDS[:_AMOUNTS] == ("id", "person_id", "setl_id", "enddate", "claim_kind", "place", "hosp_lv", "designated",
                                 "drug_list", "items")
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


def _record(row: tuple, _new=tuple.__new__, _record_type=SettlementRecord) -> SettlementRecord:
    """`claims.services.row_record`, built in one step (a third of the time per row: the
    simulation converts every settlement once for both plans)."""
    items = row[_ITEMS]
    if items:
        return row_record(row)
    return _new(_record_type, (row[2], str(row[1]), row[3], row[4], row[5] or None, row[6] or None, row[7],
                               row[8] or None, *row[_AMOUNTS:], ()))


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
    own = plan_of(contract).engine_plan()
    other = scenario_plan(scenario.plan)
    settled = Settlement.objects.filter(contract=contract)
    total = settled.count()
    # A region enrolls millions and a year's claimants are far fewer: then only the claimants'
    # timelines are loaded (memory grows with them alone). Where the enrolled are fewer than the
    # settlements, one pass over all enrollments is cheaper than a semi-join over the settlements.
    enrolled = Enrollment.objects.in_force().filter(contract=contract).count()
    timelines = coverage_timelines(contract=contract, chunk_size=chunk_size,
                                   person_ids=None if enrolled <= total else settled.values("person_id"))
    # equal attribute sets and places are shared objects
    shared: dict = {}
    persons = {str(pid): shared.setdefault(a, a) for pid, a in ((pid, engine_attributes(t)) for pid, t in timelines.items())}
    engines = (Evaluator(own, persons), Evaluator(other, persons))
    sides = (Side(), Side())
    area_names = dict(Area.objects.values_list("pk", "name"))
    liability_names = {li.code: li.name for plan in (own, other) for li in plan.liabilities}
    rows = (settled.order_by("person_id", "enddate", "setl_time", "id")
            .values_list(*ROW_FIELDS).iterator(chunk_size=chunk_size))
    records = not_covered = 0

    fixed_places: dict[int, tuple[str, str]] = {}

    def where(row) -> tuple[str, str]:
        """(area name, category) of the person on the record's discharge date; computed once
        per person unless their area or attributes change during the year."""
        person_id = row[_PERSON]
        place = fixed_places.get(person_id)
        if place is not None:
            return place
        timeline = timelines[person_id]
        attributes = persons[str(person_id)]
        dated = isinstance(attributes, DatedAttributes)
        if dated:
            attributes = attributes.on(row[_ENDDATE])
        area_id = timeline.on(row[_ENDDATE]).area_id if timeline.periods else timeline.enrollment["area_id"]
        place = area_names.get(area_id, "—"), attributes.category or "—"
        place = shared.setdefault(place, place)
        if not dated and not timeline.periods:
            fixed_places[person_id] = place
        return place

    # Per side: payable per ((area, category), hospital level), per person, per liability code;
    # the breakdowns are summed from these at the end (one dict update per paid record, not four).
    cells = (defaultdict(lambda: ZERO), defaultdict(lambda: ZERO))
    per_code = (defaultdict(lambda: ZERO), defaultdict(lambda: ZERO))

    def feed(chunk: list[tuple]) -> None:
        """One pass builds what both plans share (records, places, persons); then each plan runs
        and its payouts are added up."""
        nonlocal not_covered
        records_, places, persons_ = [], [], []
        timeline_of, fixed = timelines.get, fixed_places.get
        new, record_type = tuple.__new__, SettlementRecord
        for row in chunk:
            person_id, enddate = row[1], row[3]
            timeline = timeline_of(person_id)
            if timeline is None or not timeline.covers(enddate):
                not_covered += 1
                continue
            persons_.append(person_id)
            places.append((fixed(person_id) or where(row), row[6] or "—"))
            # `claims.services.row_record` in one step (`_record`, inlined: it runs for every row)
            records_.append(row_record(row) if row[9] else new(record_type, (
                row[2], str(person_id), enddate, row[4], row[5] or None, row[6] or None, row[7], row[8] or None,
                *row[_AMOUNTS:], ())))
        if not records_:
            return
        for evaluator, side, cell, codes in zip(engines, sides, cells, per_code, strict=True):
            result = evaluator.run(records_)
            per_person = side.per_person
            for person, place, payable, by in zip(persons_, places, result.payables, result.by_liability, strict=True):
                if not payable:
                    continue
                cell[place] += payable
                per_person[person] += payable
                for code, amount in by.items():
                    codes[code] += amount

    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        records += 1
        if len(chunk) == chunk_size:
            feed(chunk)
            chunk = []
            if progress:
                progress(records, total)
    feed(chunk)
    if progress:
        progress(records, total)
    for evaluator, side, cell, codes in zip(engines, sides, cells, per_code, strict=True):
        side.persons_at_cap = len(evaluator.persons_at_cap())
        for ((area, category), hosp_lv), amount in cell.items():
            side.payable += amount
            side.by_area[area] += amount
            side.by_category[category] += amount
            side.by_hosp_lv[hosp_lv] += amount
        for code, amount in codes.items():
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

"""Writes around the benefit engine: committing approved calculations (with the accumulator
lock) and recomputing stored settlements. The engine itself (claims/engine) is pure."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation

from programs.benefit_rules.glossary import AMOUNT_FIELDS
from programs.coverage import (
    Coverage,
    CoverageTimeline,
    coverage_timeline,
    coverage_timelines,
    timeline_or_empty,
)
from programs.models import BenefitPlan, Contract, Enrollment, InsuredPerson

from .engine import (
    Accumulators,
    DatedAttributes,
    Evaluator,
    PersonAttributes,
    SettlementRecord,
    evaluate,
    explanation_steps,
)
from .engine.explain import money
from .engine.records import ItemLine
from .models import Accumulator, Calculation, Settlement, SettlementCheck

ZERO = Decimal("0")
ENGINE_AMOUNT_FIELDS = AMOUNT_FIELDS  # the settlement amounts the engine reads, in record order


class NotEnrolled(Exception):
    """The person has no enrollment in force in the contract."""


class NotCovered(Exception):
    """A record's discharge date falls where the person was not covered (before the start,
    after an end or exit, in a gap, while suspended): it pays nothing and is refused.
    `coverage` names the period; str() is the message in the user's language."""

    def __init__(self, coverage: Coverage, setl_id: str | None = None) -> None:
        super().__init__(coverage.message)
        self.coverage = coverage
        self.setl_id = setl_id

    def __str__(self) -> str:
        return self.coverage.message


def engine_attributes(timeline: CoverageTimeline) -> PersonAttributes | DatedAttributes:
    """The person's rule attributes for the engine, as they stood on each record's discharge
    date: one set, or the dated sets of a person whose category or employment changed."""
    changes = timeline.attribute_changes()
    if not changes:
        return PersonAttributes()
    if len(changes) == 1:
        return PersonAttributes(**changes[0][1])
    return DatedAttributes(tuple(start for start, _ in changes), tuple(PersonAttributes(**a) for _, a in changes))


def engine_key(person: InsuredPerson) -> str:
    """The person's key inside engine runs (psn_no where the platform gave one)."""
    return person.psn_no or f"person-{person.pk}"


def plan_of(contract: Contract) -> BenefitPlan:
    return BenefitPlan.objects.select_related("contract").get(contract=contract)


def enrollment_of(person: InsuredPerson, contract: Contract, *, lock: bool = False) -> Enrollment:
    qs = Enrollment.objects.in_force().filter(person=person, contract=contract)
    if lock:
        qs = qs.select_for_update()
    enrollment = qs.first()
    if enrollment is None:
        raise NotEnrolled(f"{person} is not enrolled in {contract.code}")
    return enrollment


def accumulators_of(person: InsuredPerson, contract: Contract) -> Accumulators:
    """The person's year-to-date totals of approved claims, in the engine's form."""
    key = engine_key(person)
    base, paid, shared, items = {}, {}, {}, {}
    for row in Accumulator.objects.filter(person=person, contract=contract):
        if row.kind == Accumulator.Kind.LIABILITY:
            base[(key, row.code)] = row.cumulative_base
            paid[(key, row.code)] = row.cumulative_paid
        elif row.kind == Accumulator.Kind.SHARED_CAP:
            shared[(key, row.code)] = row.cumulative_paid
        else:
            items[(key, row.code, row.item_code)] = row.cumulative_base
    return Accumulators.of(base, paid, shared, items)


def _store_accumulators(person: InsuredPerson, contract: Contract, before: Accumulators, after: Accumulators) -> None:
    key = engine_key(person)
    changes: dict[tuple[str, str, str], dict[str, Decimal]] = {}
    for (psn, code), value in after.base.items():
        if psn == key and before.base.get((psn, code)) != value:
            changes.setdefault((Accumulator.Kind.LIABILITY, code, ""), {})["cumulative_base"] = value
    for (psn, code), value in after.paid.items():
        if psn == key and before.paid.get((psn, code)) != value:
            changes.setdefault((Accumulator.Kind.LIABILITY, code, ""), {})["cumulative_paid"] = value
    for (psn, code), value in after.shared_paid.items():
        if psn == key and before.shared_paid.get((psn, code)) != value:
            changes.setdefault((Accumulator.Kind.SHARED_CAP, code, ""), {})["cumulative_paid"] = value
    for (psn, code, item), value in after.item_base.items():
        if psn == key and before.item_base.get((psn, code, item)) != value:
            changes.setdefault((Accumulator.Kind.ITEM, code, item), {})["cumulative_base"] = value
    for (kind, code, item), values in changes.items():
        Accumulator.objects.update_or_create(
            person=person, contract=contract, kind=kind, code=code, item_code=item, defaults=values
        )


class DeductionExceedsPayable(Exception):
    """The deductions recorded on a record exceed what the engine pays on it."""

    def __init__(self, setl_id: str, deducted: Decimal, payable: Decimal) -> None:
        super().__init__(setl_id, deducted, payable)
        self.setl_id, self.deducted, self.payable = setl_id, deducted, payable


@dataclass(frozen=True)
class RecordDeduction:
    """What a reviewer deducts (拒付/扣减) from one record's payable, with the reasons."""

    amount: Decimal
    reasons: tuple[str, ...] = ()


def apply_deduction(steps: list[dict], payable: Decimal, by_liability: dict[str, Decimal],
                    deduction: RecordDeduction, setl_id: str) -> tuple[Decimal, dict[str, Decimal], list[dict], dict[str, Decimal]]:
    """The record's payable less the deduction, taken from its paying liabilities in plan order
    (each down to zero at most): (payable, by liability, explanation steps with one `deduction`
    step after each liability's `payable` step, amount taken per liability). Raises
    DeductionExceedsPayable when the deduction is larger than the payable."""
    if deduction.amount > payable:
        raise DeductionExceedsPayable(setl_id, deduction.amount, payable)
    left = deduction.amount
    taken: dict[str, Decimal] = {}
    for code, amount in by_liability.items():
        if left <= 0:
            break
        take = min(amount, left)
        if take > 0:
            taken[code] = take
            left -= take
    reason = "；".join(deduction.reasons)
    out: list[dict] = []
    for step in steps:
        out.append(step)
        code = step.get("liability")
        if step["step"] == "payable" and code in taken:
            after = Decimal(step["amount"]) - taken[code]
            out.append({
                "step": "deduction", "liability": code, "amount": money(taken[code]), "reason": reason,
                "payable_after": money(after),
                "cum_paid_after": money(Decimal(step["cum_paid_after"]) - taken[code]),
                "remaining": None if step["remaining"] is None else money(Decimal(step["remaining"]) + taken[code]),
            })
    net = {code: amount - taken.get(code, ZERO) for code, amount in by_liability.items()}
    return payable - deduction.amount, {c: a for c, a in net.items() if a > 0}, out, taken


def _deducted_accumulators(after: Accumulators, key: str, taken: dict[str, Decimal], steps: list[dict],
                           shared_codes: set[str]) -> Accumulators:
    """`after` with the deducted amounts taken off the liabilities' cumulative paid and off each
    shared cap the liability's payment counted toward (its `cap` steps name them)."""
    paid, shared = dict(after.paid), dict(after.shared_paid)
    for code, amount in taken.items():
        paid[(key, code)] = paid.get((key, code), ZERO) - amount
        for step in steps:
            if step["step"] == "cap" and step.get("liability") == code and step["cap"] in shared_codes:
                shared[(key, step["cap"])] = shared.get((key, step["cap"]), ZERO) - amount
    return Accumulators.of(after.base, paid, shared, after.item_base)


@transaction.atomic
def calculation_commit(
    *, contract: Contract, person: InsuredPerson, records: Sequence[SettlementRecord], user=None,
    deductions: Mapping[str, RecordDeduction] | None = None,
) -> list[Calculation]:
    """Evaluate approved records against the person's accumulators and persist both.

    The person's enrollment row is locked first (SELECT … FOR UPDATE), so two approvals for the
    same person and contract run one after the other and the second sees the first's totals:
    no cap can be exceeded by concurrent approvals. On SQLite the immediate transaction mode
    serialises writers instead.

    `deductions` (by setl_id) are taken off the records' payables: the stored calculation pays
    the engine's amount less the deduction, its explanation shows the deduction step, and the
    person's cumulative paid grows by what is paid, not by what was deducted.
    """
    evaluation, before, benefit_plan = _evaluate_for(person, contract, records, lock=True)
    after = evaluation.accumulators
    key = engine_key(person)
    shared_codes = {cap.code for cap in benefit_plan.engine_plan().shared_caps}
    calculations = []
    for result in evaluation.results:
        steps = explanation_steps(result.explanation)
        payable, by_liability = result.payable, dict(result.by_liability)
        deduction = (deductions or {}).get(result.setl_id or "")
        if deduction is not None and deduction.amount:
            payable, by_liability, steps, taken = apply_deduction(steps, payable, by_liability, deduction, result.setl_id or "")
            after = _deducted_accumulators(after, key, taken, steps, shared_codes)
        calculations.append(Calculation(
            contract=contract,
            person=person,
            setl_id=result.setl_id or "",
            payable=payable,
            by_liability={code: str(amount) for code, amount in by_liability.items()},
            explanation=steps,
            plan_version=benefit_plan.version,
            created_by=user,
        ))
    _store_accumulators(person, contract, before, after)
    return Calculation.objects.bulk_create(calculations)


def trial_calculate(*, contract: Contract, person: InsuredPerson, records: Sequence[SettlementRecord]):
    """A dry run (试算) on top of the person's approved year-to-date totals; writes nothing."""
    evaluation, before, _plan = _evaluate_for(person, contract, records, lock=False)
    return evaluation, before


def _evaluate_for(person: InsuredPerson, contract: Contract, records: Sequence[SettlementRecord], *, lock: bool):
    """Explained evaluation of `records` for one person on top of their approved totals; with
    `lock`, the enrollment row is locked first (callers that write must be in a transaction).
    Raises NotCovered for the first record discharged where the person was not covered; the
    attributes are those of each record's discharge date."""
    enrollment_of(person, contract, lock=lock)
    timeline = coverage_timeline(person=person, contract=contract)
    for record in records:
        coverage = timeline.on(record.enddate)
        if not coverage.covered:
            raise NotCovered(coverage, record.setl_id)
    benefit_plan = plan_of(contract)
    key = engine_key(person)
    records = [r if r.psn_no == key else r._replace(psn_no=key) for r in records]
    before = accumulators_of(person, contract)
    evaluation = evaluate(benefit_plan.engine_plan(), {key: engine_attributes(timeline)}, records, before, explain=True)
    return evaluation, before, benefit_plan


# --- stored settlements -------------------------------------------------------------------


@dataclass
class RecomputeSummary:
    records: int
    differing: int
    engine_total: Decimal
    platform_total: Decimal
    not_covered: int = 0  # records discharged where the person was not covered: engine 0, flagged


ROW_FIELDS = ("id", "person_id", "setl_id", "enddate", "claim_kind", "place", "hosp_lv", "designated",
               "drug_list", "items", *ENGINE_AMOUNT_FIELDS)
# row_record builds records positionally: the amounts must follow the record's own field order.
assert SettlementRecord._fields[8:8 + len(ENGINE_AMOUNT_FIELDS)] == ENGINE_AMOUNT_FIELDS
_CHECK_COLUMNS = ("settlement_id", "contract_id", "engine_payable", "engine_by_liability", "platform_payable",
                  "difference", "plan_version", "recomputed_at", "not_covered")


def row_record(row: tuple) -> SettlementRecord:
    """A `ROW_FIELDS` tuple as the engine's record, keyed by the person's id."""
    (_id, person_id, setl_id, enddate, claim_kind, place, hosp_lv, designated, drug_list, items, *amounts) = row
    return SettlementRecord(
        setl_id, str(person_id), enddate, claim_kind, place or None, hosp_lv or None, designated, drug_list or None,
        *amounts,
        tuple(ItemLine(str(i["code"]), str(i["type"]), Decimal(str(i["amount"]))) for i in items) if items else (),
    )


def settlements_recompute(*, contract: Contract, chunk_size: int = 20000, progress=None, person_ids=None) -> RecomputeSummary:
    """Recompute every stored settlement of a contract with the engine and store the result
    and its difference from the platform's own figure (审核) as SettlementChecks.

    Each person's records are accumulated in settlement order (enddate, settlement time, id)
    from zero, as the platform did, with the person's attributes on each discharge date; a
    record discharged where the person was not covered pays nothing, counts toward nothing
    and is flagged (`SettlementCheck.not_covered` names the period). Rows stream from a server-side cursor; the contract's
    checks are replaced in one transaction (COPY on PostgreSQL), so a crash or a bad plan
    leaves the previous checks in place. `person_ids` (ids or a values() queryset) limits the
    run to those persons' settlements, e.g. the persons of one hospital batch.
    """
    benefit_plan = plan_of(contract)
    platform_index = ROW_FIELDS.index(contract.program.platform_paid_field) if contract.program.platform_paid_field else None
    settlements = Settlement.objects.filter(contract=contract)
    checks = SettlementCheck.objects.filter(contract=contract)
    if person_ids is not None:
        settlements = settlements.filter(person_id__in=person_ids)
        checks = checks.filter(settlement__person_id__in=person_ids)
    timelines = coverage_timelines(contract=contract, person_ids=person_ids, chunk_size=chunk_size)
    persons = {str(person_id): engine_attributes(timeline) for person_id, timeline in timelines.items()}
    evaluator = Evaluator(benefit_plan.engine_plan(), persons)

    def coverage_of(person_id: int, day) -> Coverage | None:
        """None when covered (the common case, answered without building a Coverage)."""
        timeline = timeline_or_empty(timelines, person_id, contract)
        return None if timeline.covers(day) else timeline.on(day)

    now = timezone.now()
    summary = RecomputeSummary(0, 0, ZERO, ZERO)
    rows = (
        settlements
        .order_by("person_id", "enddate", "setl_time", "id")
        .values_list(*ROW_FIELDS)
        .iterator(chunk_size=chunk_size)
    )

    with transaction.atomic():
        checks.delete()
        chunk: list[tuple] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == chunk_size:
                # materialised before writing: a COPY must not run while the server-side
                # cursor on the same connection still has rows to fetch
                _insert_checks(list(_check_rows(evaluator, coverage_of, chunk, platform_index, contract.pk, benefit_plan.version, now, summary)))
                chunk = []
                if progress:
                    progress(summary.records)
        _insert_checks(list(_check_rows(evaluator, coverage_of, chunk, platform_index, contract.pk, benefit_plan.version, now, summary)))
    return summary


def _check_rows(evaluator, coverage_of, chunk, platform_index, contract_id, version, now, summary: RecomputeSummary):
    if not chunk:
        return

    flags = {}
    with translation.override(settings.LANGUAGE_CODE):  # stored text: the installation's language
        for row in chunk:
            coverage = coverage_of(row[1], row[3])
            if coverage is not None:
                flags[row[0]] = coverage.message[:200]
    covered = [r for r in chunk if r[0] not in flags]
    result = evaluator.run([row_record(r) for r in covered])
    computed = {row[0]: (payable, by) for row, payable, by in zip(covered, result.payables, result.by_liability, strict=True)}
    for row in chunk:
        payable, by = computed.get(row[0], (ZERO, {}))
        platform = row[platform_index] if platform_index is not None else None
        difference = None if platform is None else payable - platform
        summary.records += 1
        summary.not_covered += row[0] in flags
        summary.engine_total += payable
        if platform is not None:
            summary.platform_total += platform
            if difference:
                summary.differing += 1
        yield (row[0], contract_id, payable, {k: str(v) for k, v in by.items()}, platform, difference, version, now,
               flags.get(row[0], ""))


def _insert_checks(rows: list[tuple]) -> None:
    """Bulk insert: COPY on PostgreSQL (a million rows in seconds), batched INSERTs elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = SettlementCheck._meta.db_table
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(_CHECK_COLUMNS)}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row((*r[:3], json.dumps(r[3]), *r[4:]))
        return
    SettlementCheck.objects.bulk_create(
        [SettlementCheck(**dict(zip(_CHECK_COLUMNS, r, strict=True))) for r in rows], batch_size=2000
    )


def settlement_explanation(settlement: Settlement) -> list[dict]:
    """Explain one stored settlement on demand: replay the person's records of the contract
    in settlement order up to this one, then explain it. Records discharged where the person
    was not covered count toward nothing and are left out; this one, if so, raises NotCovered."""
    enrollment_of(settlement.person, settlement.contract)
    timeline = coverage_timeline(person=settlement.person, contract=settlement.contract)
    plan = plan_of(settlement.contract).engine_plan()
    records = []
    rows = (
        Settlement.objects.filter(contract=settlement.contract, person=settlement.person)
        .order_by("enddate", "setl_time", "id")
        .values_list(*ROW_FIELDS)
    )
    for row in rows:
        if row[0] == settlement.pk:
            coverage = timeline.on(row[3])
            if not coverage.covered:
                raise NotCovered(coverage, row[2])
            records.append(row_record(row))
            break
        if timeline.on(row[3]).covered:
            records.append(row_record(row))
    key = str(settlement.person_id)
    evaluation = evaluate(plan, {key: engine_attributes(timeline)}, records, explain=True)
    return explanation_steps(evaluation.results[len(records) - 1].explanation)

"""Writes around the benefit engine: committing approved calculations (with the accumulator
lock) and recomputing stored settlements. The engine itself (claims/engine) is pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from programs.models import BenefitPlan, Contract, Enrollment, InsuredPerson

from .engine import Accumulators, PersonAttributes, SettlementRecord, evaluate, explanation_steps
from .engine.records import ItemLine
from .models import Accumulator, Calculation, Settlement

ZERO = Decimal("0")
ENGINE_AMOUNT_FIELDS = (
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
    "act_pay_dedc", "hifp_pay", "hifmi_pay", "hifob_pay", "maf_pay", "psn_part_amt", "acct_pay",
    "psn_cash_pay", "over_cap_amt", "drug_amount",
)


class NotEnrolled(Exception):
    """The person has no enrollment in force in the contract."""


def engine_key(person: InsuredPerson) -> str:
    """The person's key inside engine runs (psn_no where the platform gave one)."""
    return person.psn_no or f"person-{person.pk}"


def person_attributes(enrollment: Enrollment) -> PersonAttributes:
    return PersonAttributes(
        category=enrollment.category,
        employment=enrollment.employment,
        health=enrollment.health,
        continuous_no_claim_3y=enrollment.continuous_no_claim_3y,
        student=enrollment.student,
    )


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


@transaction.atomic
def calculation_commit(
    *, contract: Contract, person: InsuredPerson, records: Sequence[SettlementRecord], user=None
) -> list[Calculation]:
    """Evaluate approved records against the person's accumulators and persist both.

    The person's enrollment row is locked first (SELECT … FOR UPDATE), so two approvals for the
    same person and contract run one after the other and the second sees the first's totals:
    no cap can be exceeded by concurrent approvals. On SQLite the immediate transaction mode
    serialises writers instead.
    """
    enrollment = enrollment_of(person, contract, lock=True)
    benefit_plan = plan_of(contract)
    key = engine_key(person)
    records = [r if r.psn_no == key else r._replace(psn_no=key) for r in records]
    before = accumulators_of(person, contract)
    evaluation = evaluate(benefit_plan.engine_plan(), {key: person_attributes(enrollment)}, records, before, explain=True)
    _store_accumulators(person, contract, before, evaluation.accumulators)
    calculations = [
        Calculation(
            contract=contract,
            person=person,
            setl_id=result.setl_id or "",
            payable=result.payable,
            by_liability={code: str(amount) for code, amount in result.by_liability.items()},
            explanation=explanation_steps(result.explanation),
            plan_version=benefit_plan.version,
            created_by=user,
        )
        for result in evaluation.results
    ]
    return Calculation.objects.bulk_create(calculations)


def trial_calculate(*, contract: Contract, person: InsuredPerson, records: Sequence[SettlementRecord]):
    """A dry run (试算) on top of the person's approved year-to-date totals; writes nothing."""
    enrollment = enrollment_of(person, contract)
    benefit_plan = plan_of(contract)
    key = engine_key(person)
    records = [r._replace(psn_no=key) for r in records]
    before = accumulators_of(person, contract)
    evaluation = evaluate(benefit_plan.engine_plan(), {key: person_attributes(enrollment)}, records, before, explain=True)
    return evaluation, before


# --- stored settlements -------------------------------------------------------------------


def settlement_record(row: Settlement | dict, psn_no: str) -> SettlementRecord:
    """A stored settlement (model or values() dict) as the engine's record."""
    get = row.get if isinstance(row, dict) else (lambda name, default=None: getattr(row, name, default))
    items = tuple(
        ItemLine(str(i["code"]), str(i["type"]), Decimal(str(i["amount"]))) for i in (get("items") or ())
    )
    return SettlementRecord(
        setl_id=get("setl_id"),
        psn_no=psn_no,
        enddate=get("enddate"),
        claim_kind=get("claim_kind"),
        place=get("place") or None,
        hosp_lv=get("hosp_lv") or None,
        designated=get("designated"),
        drug_list=get("drug_list") or None,
        items=items,
        **{f: get(f) or ZERO for f in ENGINE_AMOUNT_FIELDS},
    )


@dataclass
class RecomputeSummary:
    records: int
    differing: int
    engine_total: Decimal
    platform_total: Decimal


_RECOMPUTE_FIELDS = ("id", "person_id", "setl_id", "enddate", "claim_kind", "place", "hosp_lv", "designated",
                     "drug_list", "items", *ENGINE_AMOUNT_FIELDS)


def settlements_recompute(*, contract: Contract, chunk_size: int = 20000, progress=None) -> RecomputeSummary:
    """Recompute every stored settlement of a contract with the engine and store the result
    and its difference from the platform's own figure (审核).

    Each person's records are accumulated in settlement order (enddate, settlement time, id)
    from zero, as the platform did. Reads stream in chunks; writes go in bulk per chunk; the
    whole run is one transaction, so a crash leaves the previous results in place.
    """
    benefit_plan = plan_of(contract)
    plan = benefit_plan.engine_plan()
    platform_field = contract.program.platform_paid_field
    persons = {
        e.person_id: person_attributes(e)
        for e in Enrollment.objects.in_force().filter(contract=contract).only(
            "person_id", "category", "employment", "health", "continuous_no_claim_3y", "student"
        )
    }
    from .engine import Evaluator

    evaluator = Evaluator(plan, {str(pk): attrs for pk, attrs in persons.items()})
    now = timezone.now()
    summary = RecomputeSummary(0, 0, ZERO, ZERO)
    qs = (
        Settlement.objects.filter(contract=contract)
        .order_by("person_id", "enddate", "setl_time", "id")
        .values_list(*_RECOMPUTE_FIELDS)
    )
    with transaction.atomic():
        batch: list[tuple] = []
        for row in qs.iterator(chunk_size=chunk_size):
            batch.append(row)
            if len(batch) >= chunk_size:
                _recompute_chunk(evaluator, batch, platform_field, benefit_plan.version, now, summary)
                batch = []
                if progress:
                    progress(summary.records)
        if batch:
            _recompute_chunk(evaluator, batch, platform_field, benefit_plan.version, now, summary)
    return summary


def _recompute_chunk(evaluator, rows, platform_field, version, now, summary: RecomputeSummary) -> None:
    names = _RECOMPUTE_FIELDS
    idx = {n: i for i, n in enumerate(names)}
    amount_idx = [(f, idx[f]) for f in ENGINE_AMOUNT_FIELDS]
    records = []
    for r in rows:
        items = r[idx["items"]]
        records.append(
            SettlementRecord(
                setl_id=r[idx["setl_id"]],
                psn_no=str(r[idx["person_id"]]),
                enddate=r[idx["enddate"]],
                claim_kind=r[idx["claim_kind"]],
                place=r[idx["place"]] or None,
                hosp_lv=r[idx["hosp_lv"]] or None,
                designated=r[idx["designated"]],
                drug_list=r[idx["drug_list"]] or None,
                items=tuple(ItemLine(str(i["code"]), str(i["type"]), Decimal(str(i["amount"]))) for i in items) if items else (),
                **{f: r[i] for f, i in amount_idx},
            )
        )
    result = evaluator.run(records)
    platform_i = idx.get(platform_field) if platform_field else None
    updates = []
    for r, payable, by in zip(rows, result.payables, result.by_liability, strict=True):
        platform = r[platform_i] if platform_i is not None else None
        difference = payable - platform if platform is not None else None
        updates.append(
            Settlement(
                id=r[0],
                engine_payable=payable,
                engine_by_liability={k: str(v) for k, v in by.items()},
                platform_payable=platform,
                difference=difference,
                plan_version=version,
                recomputed_at=now,
            )
        )
        summary.records += 1
        summary.engine_total += payable
        if platform is not None:
            summary.platform_total += platform
            if difference:
                summary.differing += 1
    Settlement.objects.bulk_update(
        updates,
        ["engine_payable", "engine_by_liability", "platform_payable", "difference", "plan_version", "recomputed_at"],
        batch_size=2000,
    )


def settlement_explanation(settlement: Settlement) -> list[dict]:
    """Explain one stored settlement on demand: replay the person's earlier records of the
    contract in settlement order, then explain this one."""
    enrollment = enrollment_of(settlement.person, settlement.contract)
    plan = plan_of(settlement.contract).engine_plan()
    earlier = list(
        Settlement.objects.filter(contract=settlement.contract, person=settlement.person)
        .order_by("enddate", "setl_time", "id")
    )
    key = "p"
    records = []
    for s in earlier:
        records.append(settlement_record(s, key))
        if s.pk == settlement.pk:
            break
    evaluation = evaluate(plan, {key: person_attributes(enrollment)}, records, explain=True)
    return explanation_steps(evaluation.results[len(records) - 1].explanation)


"""The claims' part of the person page (issue 23 item 2), registered with
`programs.person_sections` in ClaimsConfig.ready(): the person's manual claims of every year,
the year-to-date totals per liability with the remaining sum insured (剩余保险金额) and the
deductible still to reach, and their instant settlements with the engine's check of the
platform's figure.

The totals are the engine's own: the accumulators of approved claims (`accumulators_of`, what
approval adds to under its lock), read against the plan's cap and deductible for this person.
Which schedule and cap row applies is decided by the person's attributes (category, employment,
health, …) as the engine matches them; conditions on a record (place, hospital level) are not
known before a stay, so every deductible a row for this person may apply is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from programs.benefit_rules.glossary import BOOL_ATTRIBUTES, PERSON_ATTRIBUTES
from programs.coverage import coverage_timeline
from programs.models import BenefitPlan, Enrollment
from programs.person_sections import PersonSection

from . import services
from .engine import compile_plan
from .engine.records import DatedAttributes
from .models import Claim, Settlement

ZERO = Decimal("0.00")
INSTANT_ROWS = 100


def _person_matches(selector, values: dict) -> bool:
    """Whether a rule's conditions on the person hold (record conditions are left open)."""
    for name, wanted in selector.conditions():
        if name not in PERSON_ATTRIBUTES:
            continue
        actual = values.get(name)
        if (actual is not wanted) if name in BOOL_ATTRIBUTES else (actual not in wanted):
            return False
    return True


@dataclass(frozen=True)
class LiabilityTotal:
    name: str
    base: Decimal  # cumulative base of approved claims (drives the deductible and bands)
    paid: Decimal  # cumulative paid (counts against the cap)
    cap: Decimal | None  # None: no cap
    remaining: Decimal | None  # 剩余保险金额; None: no cap
    deductibles: tuple[Decimal, ...]  # the deductibles a schedule row for this person may apply
    deductible_left: tuple[Decimal, ...]  # still to reach, per deductible above


@dataclass(frozen=True)
class ContractTotals:
    contract: object
    liabilities: list[LiabilityTotal]
    shared: list[tuple[str, Decimal, Decimal, Decimal]]  # (name, cap, paid, remaining)


def year_to_date(person, contract, today=None) -> ContractTotals | None:
    """The person's approved totals under `contract`, per liability that applies to them."""
    try:
        plan = services.plan_of(contract).engine_plan()
    except BenefitPlan.DoesNotExist:
        return None

    compiled = compile_plan(plan)
    today = today or timezone.localdate()
    attributes = services.engine_attributes(coverage_timeline(person=person, contract=contract))
    if isinstance(attributes, DatedAttributes):
        attributes = attributes.on(min(max(today, contract.period_start), contract.period_end))
    values = {name: getattr(attributes, name) for name in PERSON_ATTRIBUTES}
    totals = services.accumulators_of(person, contract)
    key = services.engine_key(person)
    rows = []
    for li in plan.liabilities:
        if not _person_matches(li.eligibility, values):
            continue
        base = totals.base.get((key, li.code), ZERO)
        paid = totals.paid.get((key, li.code), ZERO)
        deductibles = tuple(sorted({compiled.amount(r.deductible) for r in li.schedule if _person_matches(r.when, values)}))
        cap_row = next((c for c in li.caps if _person_matches(c.when, values)), None)
        cap = None if cap_row is None or cap_row.amount is None else compiled.amount(cap_row.amount)
        rows.append(LiabilityTotal(
            name=li.name, base=base, paid=paid, cap=cap, remaining=None if cap is None else max(cap - paid, ZERO),
            deductibles=deductibles, deductible_left=tuple(max(d - base, ZERO) for d in deductibles),
        ))
    shared = []
    for s in plan.shared_caps:
        amount = compiled.amount(s.amount)
        paid = totals.shared_paid.get((key, s.code), ZERO)
        shared.append((s.name, amount, paid, max(amount - paid, ZERO)))
    return ContractTotals(contract, rows, shared)


def person_claims_section(request, person, year: int) -> PersonSection | None:
    user = request.user
    if not user.has_perm("claims.view_claim"):
        return None
    claims = list(
        Claim.objects.for_user(user).filter(person=person).select_related("contract", "area", "slip")
        .order_by("-enddate", "-id")
    )
    contracts = [e.contract for e in person.visible_enrollments
                 if e.contract.year == year and e.status != Enrollment.Status.CANCELLED]
    totals = [t for t in (year_to_date(person, c) for c in contracts) if t is not None]
    instant = list(
        Settlement.objects.for_user(user).filter(person=person, source=Settlement.Source.INSTANT)
        .select_related("contract", "verification").order_by("-enddate", "-id")[:INSTANT_ROWS]
    )
    for s in instant:
        try:
            s.engine_check = s.verification
        except Settlement.verification.RelatedObjectDoesNotExist:
            s.engine_check = None
    return PersonSection("claims/_person_picture.html", {
        "claims": claims, "totals": totals, "instant": instant, "instant_truncated": len(instant) == INSTANT_ROWS,
        "can_print_slip": user.has_perm("claims.print_slip"),
    }, order=10)

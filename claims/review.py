"""What the reviewer reads before approving a manual claim (issue 19, item 6): the engine's
band-by-band explanation of the claim as it would be approved now (with the deductions
recorded), the platform check of each record, the cover on the discharge date and the
possible duplicates. Reads only; the page shows them above the approve button."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from programs.coverage import coverage_on
from programs.models import Enrollment

from .models import Claim, Settlement, SettlementCheck
from .presentation import FIELD_LABELS, explanation_blocks
from .registration import IDENTITY_TOLERANCE, possible_duplicates
from .services import NotCovered
from .workflow import trial_with_deductions

ZERO = Decimal("0.00")
IDENTITY_PARTS = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")


@dataclass
class Check:
    ok: bool
    text: str


@dataclass
class RecordReview:
    setl_id: str
    checks: list[Check] = field(default_factory=list)
    engine: Decimal | None = None  # the engine's payable now
    payable: Decimal | None = None  # after the deductions
    blocks: list[dict] = field(default_factory=list)


@dataclass
class ClaimReview:
    records: list[RecordReview]
    coverage: Check
    duplicates: list  # registration.PossibleDuplicate
    refusal: str = ""  # why the engine cannot calculate the claim now (not covered, deductions too large)

    @property
    def engine_total(self) -> Decimal:
        return sum((r.engine or ZERO for r in self.records), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((r.payable or ZERO for r in self.records), ZERO)

    @property
    def warnings(self) -> int:
        return sum(not c.ok for r in self.records for c in r.checks) + (not self.coverage.ok) + len(self.duplicates)


def _y(value: Decimal) -> str:
    return f"{value:,.2f}"


def platform_checks(settlement: Settlement, platform_field: str | None, check: SettlementCheck | None) -> list[Check]:
    """The record against the platform's own rules and figures (DOMAIN.md §3)."""
    out = []
    parts = sum((getattr(settlement, f) for f in IDENTITY_PARTS), ZERO)
    words = {"total": _y(settlement.medfee_sumamt), "parts": _y(parts)}
    if abs(settlement.medfee_sumamt - parts) <= IDENTITY_TOLERANCE:
        out.append(Check(True, _("Total medical cost %(total)s = fully self-paid + above price limits + class-B first "
                                 "self-pay + within policy scope.") % words))
    else:
        out.append(Check(False, _("Total medical cost %(total)s differs from the sum of its parts %(parts)s (fully "
                                  "self-paid + above price limits + class-B first self-pay + within policy scope).") % words))
    words = {"hifp": _y(settlement.hifp_pay), "scope": _y(settlement.inscp_scp_amt)}
    if settlement.hifp_pay <= settlement.inscp_scp_amt:
        out.append(Check(True, _("Basic pooled fund paid %(hifp)s ≤ amount within policy scope %(scope)s.") % words))
    else:
        out.append(Check(False, _("Basic pooled fund paid %(hifp)s exceeds the amount within policy scope %(scope)s.") % words))
    if platform_field:
        paid = getattr(settlement, platform_field)
        words = {"field": FIELD_LABELS.get(platform_field, platform_field), "amount": _y(paid)}
        if paid:
            out.append(Check(False, _("The platform already paid %(amount)s on this record (%(field)s): paying it "
                                      "again by hand would pay twice.") % words))
        else:
            out.append(Check(True, _("The platform paid nothing on this record (%(field)s 0.00).") % words))
    if check is not None:
        if check.not_covered:
            out.append(Check(False, _("Recomputation: %(reason)s") % {"reason": check.not_covered}))
        elif check.difference:
            out.append(Check(False, _("Recomputation: the engine pays %(engine)s, the platform %(platform)s (difference "
                                      "%(difference)s).") % {"engine": _y(check.engine_payable),
                                                             "platform": _y(check.platform_payable),
                                                             "difference": _y(check.difference)}))
    return out


def _coverage(claim: Claim) -> Check:
    coverage = coverage_on(person=claim.person, contract=claim.contract, on=claim.enddate)
    if not coverage.covered:
        return Check(False, coverage.message)
    detail = f"（{coverage.category_detail}）" if coverage.category_detail else ""
    return Check(True, _("Covered on the discharge date %(date)s: %(category)s%(detail)s · %(employment)s.") % {
        "date": claim.enddate.isoformat(), "category": Enrollment.Category(coverage.category).label, "detail": detail,
        "employment": Enrollment.Employment(coverage.employment).label})


def claim_review(claim: Claim) -> ClaimReview:
    """Everything the reviewer weighs, computed now (a claim being calculated or under review)."""
    settlements = list(claim.settlements.order_by("enddate", "setl_time", "id"))
    checks = {c.settlement_id: c for c in SettlementCheck.objects.filter(settlement__in=settlements)}
    platform_field = claim.contract.program.platform_paid_field
    records = {s.setl_id: RecordReview(s.setl_id, platform_checks(s, platform_field, checks.get(s.pk))) for s in settlements}
    refusal = ""
    if settlements:
        try:
            for setl_id, engine, payable, steps in trial_with_deductions(claim):
                row = records[setl_id]
                row.engine, row.payable, row.blocks = engine, payable, explanation_blocks(steps)
        except NotCovered as exc:
            refusal = str(exc)
        except ValidationError as exc:
            refusal = " ".join(exc.messages)
    duplicates = possible_duplicates(person=claim.person, contract=claim.contract, begndate=claim.begndate,
                                     enddate=claim.enddate, totals=[s.medfee_sumamt for s in settlements], exclude_claim=claim)
    return ClaimReview(list(records.values()), _coverage(claim), duplicates, refusal)

"""Member services at the window (健康管理服务, issue 23 item 5): what a person has used and
has left of each entitlement group of a contract, recording a use or a discounted purchase
against the contract's limits (as data: claims.EntitlementGroup), the monthly usage report,
and claim reports by phone (报案) that become claims.

Every limit is checked under the lock of the person's enrollment row in the contract (one row
per person and contract year), so two windows recording the last remaining use at once get
one acceptance and one refusal naming the limit."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from programs.coverage import coverage_timeline
from programs.models import Contract, Enrollment, InsuredPerson

from .models import Claim, ClaimReport, EntitlementGroup, EntitlementKind, EntitlementUse
from .services import NotEnrolled, enrollment_of

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class EntitlementRefused(ValidationError):
    """The use exceeds a limit of the contract (the message names it); nothing is written."""


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _eligibility_label(attribute: str) -> str:
    from .member_models import ELIGIBILITY_CHOICES

    return str(dict(ELIGIBILITY_CHOICES).get(attribute, attribute))


# --- reads --------------------------------------------------------------------------------


@dataclass
class GroupStanding:
    """A person's use of one group in the contract year."""

    group: EntitlementGroup
    kinds: list[EntitlementKind]
    eligible: bool
    used: int = 0
    subsidy: Decimal = ZERO
    purchases: Decimal = ZERO
    chosen: EntitlementKind | None = None
    by_kind: dict = field(default_factory=dict)  # kind id -> count

    @property
    def count_left(self) -> int | None:
        limit = self.group.yearly_count_limit
        return None if limit is None else max(limit - self.used, 0)

    @property
    def amount_left(self) -> Decimal | None:
        cap = self.group.yearly_amount_cap
        return None if cap is None else max(cap - self.subsidy, ZERO)

    @property
    def kind_rows(self) -> list[tuple[EntitlementKind, int]]:
        return [(k, self.by_kind.get(k.pk, 0)) for k in self.kinds]


def standing(person: InsuredPerson, contract: Contract, enrollment: Enrollment | None = None) -> list[GroupStanding]:
    """Per group of the contract: what the person used and has left (empty: no member services)."""
    groups = list(EntitlementGroup.objects.filter(contract=contract).prefetch_related("kinds"))
    if not groups:
        return []
    if enrollment is None:
        enrollment = Enrollment.objects.in_force().filter(person=person, contract=contract).first()
    rows = {g.pk: GroupStanding(g, list(g.kinds.all()), _eligible(g, enrollment)) for g in groups}
    kinds = {k.pk: k for g in groups for k in g.kinds.all()}
    for use in EntitlementUse.objects.filter(person=person, contract=contract).order_by("used_on", "id"):
        kind = kinds[use.kind_id]
        row = rows[kind.group_id]
        row.used += 1
        row.subsidy += use.subsidy
        row.purchases += use.purchase_amount or ZERO
        row.by_kind[kind.pk] = row.by_kind.get(kind.pk, 0) + 1
        if row.group.choose_one and row.chosen is None:
            row.chosen = kind
    return [rows[g.pk] for g in groups]


def _eligible(group: EntitlementGroup, enrollment: Enrollment | None) -> bool:
    if enrollment is None:
        return False
    return not group.eligibility or bool(getattr(enrollment, group.eligibility, False))


def subsidy_for(group: EntitlementGroup, amount: Decimal, subsidised_so_far: Decimal) -> Decimal:
    """min(amount × rate, cap per use, what is left of the yearly cap), half-up to 0.01."""
    value = (amount * group.subsidy_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    if group.per_use_cap is not None:
        value = min(value, group.per_use_cap)
    if group.yearly_amount_cap is not None:
        value = min(value, max(group.yearly_amount_cap - subsidised_so_far, ZERO))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- writes -------------------------------------------------------------------------------


@transaction.atomic
def entitlement_use_record(*, user, person: InsuredPerson, contract: Contract, kind: EntitlementKind, used_on: dt.date,
                           purchase_amount: Decimal | None = None, note: str = "",
                           today: dt.date | None = None) -> EntitlementUse:
    """Record one use (or one discounted purchase) of `kind` for `person` under `contract`.
    Refused, naming the limit, when the person is not covered on the day, is not eligible for
    the group, has chosen another kind of a choose-one group, has used up the group's yearly
    count or its yearly subsidy. The subsidy of a purchase is computed here (never typed)."""
    if not user.has_perm("claims.add_entitlementuse"):
        raise PermissionDenied(_("You may not record member services."))
    today = today or timezone.localdate()
    group = kind.group
    if group.contract_id != contract.pk:
        raise EntitlementRefused(_("%(kind)s is not a member service of %(contract)s.")
                                 % {"kind": kind.name, "contract": contract.name}, code="other_contract")
    try:
        # the per-person-per-contract-year lock: every count below is taken under it
        enrollment = enrollment_of(person, contract, lock=True)
    except NotEnrolled:
        raise EntitlementRefused(_("%(person)s is not enrolled in %(contract)s.")
                                 % {"person": person, "contract": contract.name}, code="not_enrolled") from None
    if used_on > today:
        raise EntitlementRefused(_("The date %(value)s is in the future.") % {"value": used_on}, code="future")
    coverage = coverage_timeline(person=person, contract=contract).on(used_on)
    if not coverage.covered:
        raise EntitlementRefused(coverage.message, code="not_covered")
    if not _eligible(group, enrollment):
        raise EntitlementRefused(
            _("%(group)s are only for insured persons with: %(condition)s.")
            % {"group": group.name, "condition": _eligibility_label(group.eligibility)}, code="not_eligible")
    uses = EntitlementUse.objects.filter(person=person, contract=contract, kind__group=group)
    if group.choose_one:
        chosen = uses.exclude(kind=kind).select_related("kind").order_by("used_on", "id").first()
        if chosen is not None:
            raise EntitlementRefused(
                _("This year's %(group)s is already chosen: %(chosen)s; %(kind)s cannot be chosen as well.")
                % {"group": group.name, "chosen": chosen.kind.name, "kind": kind.name}, code="chosen")
    if group.yearly_count_limit is not None and uses.count() >= group.yearly_count_limit:
        raise EntitlementRefused(_("This year's %(group)s are used up: %(limit)s times.")
                                 % {"group": group.name, "limit": group.yearly_count_limit}, code="count_limit")
    subsidy = ZERO
    if group.with_amount:
        if purchase_amount is None or purchase_amount <= 0:
            raise EntitlementRefused(_("Enter the purchase amount."), code="amount_missing")
        if purchase_amount.as_tuple().exponent < -2:
            raise EntitlementRefused(_("Amounts have at most two decimals."), code="amount_decimals")
        so_far = uses.aggregate(s=Sum("subsidy"))["s"] or ZERO
        if group.yearly_amount_cap is not None and so_far >= group.yearly_amount_cap:
            raise EntitlementRefused(_("This year's subsidy of %(group)s is used up: %(cap)s yuan.")
                                     % {"group": group.name, "cap": _yuan(group.yearly_amount_cap)}, code="amount_limit")
        subsidy = subsidy_for(group, purchase_amount, so_far)
    else:
        purchase_amount = None
    use = EntitlementUse(person=person, contract=contract, area=enrollment.area, kind=kind, used_on=used_on,
                         purchase_amount=purchase_amount, subsidy=subsidy, recorded_by=user, note=note.strip())
    use.full_clean()
    use.save()
    return use


def subsidy_note(use: EntitlementUse) -> str:
    """Why a subsidy is less than rate × amount (cap per use, or what was left of the year)."""
    group = use.kind.group
    if not group.with_amount or use.purchase_amount is None:
        return ""
    full = (use.purchase_amount * group.subsidy_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    if use.subsidy >= full:
        return ""
    if group.per_use_cap is not None and use.subsidy == group.per_use_cap:
        return _("cut to the cap of %(cap)s yuan per purchase") % {"cap": _yuan(group.per_use_cap)}
    return _("cut to what was left of the yearly cap of %(cap)s yuan") % {"cap": _yuan(group.yearly_amount_cap)}


# --- the monthly usage report -------------------------------------------------------------


@dataclass
class ReportRow:
    group: EntitlementGroup
    kind: EntitlementKind
    uses: int
    persons: int
    purchases: Decimal
    subsidy: Decimal


def monthly_usage(user, contract: Contract, month: dt.date) -> list[ReportRow]:
    """Per kind of the contract's member services, the uses recorded in `month` in the user's
    areas: number of uses, persons, purchase amounts and subsidies."""
    start = month.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    figures = {
        r["kind"]: r for r in EntitlementUse.objects.for_user(user)
        .filter(contract=contract, used_on__gte=start, used_on__lt=end)
        .values("kind").annotate(uses=Count("id"), persons=Count("person", distinct=True),
                                 purchases=Sum("purchase_amount"), subsidy=Sum("subsidy"))
    }
    rows = []
    for kind in EntitlementKind.objects.filter(group__contract=contract).select_related("group").order_by(
            "group__position", "group_id", "position", "id"):
        f = figures.get(kind.pk, {})
        rows.append(ReportRow(kind.group, kind, f.get("uses", 0), f.get("persons", 0),
                              (f.get("purchases") or ZERO).quantize(CENT), (f.get("subsidy") or ZERO).quantize(CENT)))
    return rows


def report_totals(rows: list[ReportRow]) -> dict:
    by_group = defaultdict(lambda: {"uses": 0, "purchases": ZERO, "subsidy": ZERO})
    for r in rows:
        g = by_group[r.group]
        g["uses"] += r.uses
        g["purchases"] += r.purchases
        g["subsidy"] += r.subsidy
    return {
        "groups": dict(by_group),
        "uses": sum(r.uses for r in rows),
        "purchases": sum((r.purchases for r in rows), ZERO),
        "subsidy": sum((r.subsidy for r in rows), ZERO),
    }


# --- claim reports by phone (报案) -----------------------------------------------------------


def phone_report_convert(*, report: ClaimReport, claim: Claim, user) -> ClaimReport:
    """Mark the report as registered with `claim`; called inside the registration's transaction,
    so a claim is never created without its report being marked (nor the other way round)."""
    report = ClaimReport.objects.select_for_update().get(pk=report.pk)
    if report.claim_id is not None:
        from .registration import RegistrationRefused

        raise RegistrationRefused(_("This claim report was already registered as claim %(no)s.")
                                  % {"no": report.claim.claim_no}, code="report_converted")
    if report.person_id != claim.person_id or report.contract_id != claim.contract_id:
        raise ValidationError(_("The claim is not about the reported person and contract."))
    report.claim = claim
    report.converted_at = timezone.now()
    report.save(update_fields=["claim", "converted_at"])
    return report

"""Settlement slips (结算单) in pretix's three layers: a service that issues slips and records
every print (`slips_issue`), the slip's content built from the STORED calculation
(`slip_pages`), and the render function (`slip_render`: pages → one PDF). `slips_print` chains
them and is what a print (a POST: the claim page's button, the admin's batch action) calls;
`slips_preview` renders the same pages marked as a preview and records nothing (a GET).

A slip exists only for an approved or paid claim. Its number is drawn once, at the first
print, sequential per contract; copy 1 is the original, every later print a counted reprint
(补打). Many slips go into ONE document: one PDF costs ≈90 ms on top of ≈150 ms a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import cn2an
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insurance_admin.core.masking import certno_for, name_for
from insurance_admin.core.pdf import render_pdf
from programs.coverage import Coverage, coverage_timelines, timeline_or_empty
from programs.models import Contract, Enrollment

from .models import Calculation, Claim, ClaimTerms, Deduction, Settlement, SettlementSlip, SlipPrint
from .presentation import CODE_LABELS, HOSP_LEVEL_LABELS, explanation_blocks

PERM_PRINT_SLIP = "claims.print_slip"
PRINTABLE = (Claim.Status.APPROVED, Claim.Status.PAID)
TEMPLATE = "claims/slip.html"

# The fee breakdown, in the platform's order (DOMAIN.md §3). Optional rows appear only when a
# record carries an amount or the program's platform reports its own payment in that field.
FEE_ROWS = [
    ("medfee_sumamt", gettext_lazy("Total medical cost"), True),
    ("fulamt_ownpay_amt", gettext_lazy("Fully self-paid (out of catalogue)"), True),
    ("overlmt_selfpay", gettext_lazy("Self-paid above price limits"), True),
    ("preselfpay_amt", gettext_lazy("Class-B first self-pay"), True),
    ("inscp_scp_amt", gettext_lazy("Amount within policy scope"), True),
    ("act_pay_dedc", gettext_lazy("Basic-insurance deductible borne"), True),
    ("hifp_pay", gettext_lazy("Basic pooled fund paid"), True),
    ("hifmi_pay", gettext_lazy("Critical-illness insurance paid"), False),
    ("hifob_pay", gettext_lazy("Large-amount supplementary paid"), False),
    ("over_cap_amt", gettext_lazy("Policy-scope cost beyond the basic fund's maximum"), False),
    ("drug_amount", gettext_lazy("Special-drug amount"), False),
    ("maf_pay", gettext_lazy("Medical assistance paid"), True),
    ("psn_cash_pay", gettext_lazy("Cash paid by the person"), True),
]


class SlipRefused(ValidationError):
    """The claim cannot have a slip (not approved), or the batch holds such a claim."""


def amount_in_capitals(amount: Decimal) -> str:
    """3800 → 叁仟捌佰元整; 12345.67 → 壹万贰仟叁佰肆拾伍元陆角柒分 (人民币大写)."""
    return cn2an.an2cn(f"{amount:.2f}", "rmb")


def slip_number(contract: Contract, sequence: int, prefix: str = "") -> str:
    """The office's own numbering: the contract's prefix (ClaimTerms.slip_prefix), the insurance
    year and the sequence within the contract — TL2025-000001. Without a prefix: the year and
    the contract's row number (2025-C7-000001); never the contract's internal code."""
    head = f"{prefix}{contract.year}" if prefix else f"{contract.year}-C{contract.pk}"
    return f"{head}-{sequence:06d}"


# --- service: issue and record ----------------------------------------------------------------


def _printable_claims(ids: list[int], user, *, lock: bool) -> dict[int, Claim]:
    """The claims by id, or PermissionDenied / SlipRefused for the whole batch."""
    if not user.has_perm(PERM_PRINT_SLIP):
        raise PermissionDenied(_("You may not print settlement slips."))
    rows = Claim.objects.for_user(user).filter(pk__in=ids).order_by("pk")
    found = {c.pk: c for c in (rows.select_for_update() if lock else rows)}
    if len(found) != len(ids):
        raise PermissionDenied(_("A claim lies outside your areas."))
    refused = [found[pk] for pk in ids if found[pk].status not in PRINTABLE]
    if refused:
        raise SlipRefused(
            _("A settlement slip is printed only for an approved or paid claim: %(claims)s.")
            % {"claims": "、".join(f"{c.claim_no}（{Claim.Status(c.status).label}）" for c in refused)},
            code="not_approved",
        )
    return found


@transaction.atomic
def slips_issue(*, claims: Sequence[Claim], user) -> list[SlipPrint]:
    """Record one print of each claim's slip, issuing the slip (number) at its first print.

    Returns the prints in the order of `claims`. Refuses the whole batch when the user may not
    print, a claim lies outside the user's areas, or a claim is not approved or paid.
    """
    ids = list(dict.fromkeys(c.pk for c in claims))
    # Claim rows locked: concurrent prints of one slip take copy numbers one after the other.
    locked = _printable_claims(ids, user, lock=True)
    now = timezone.now()
    slips = {s.claim_id: s for s in SettlementSlip.objects.filter(claim_id__in=ids)}
    new_ids = [pk for pk in ids if pk not in slips]
    if new_ids:
        contract_ids = sorted({locked[pk].contract_id for pk in new_ids})
        # The contract row is the lock behind its sequence: numbers never repeat or skip.
        list(Contract.objects.select_for_update().filter(pk__in=contract_ids).order_by("pk").values_list("pk"))
        contracts = Contract.objects.in_bulk(contract_ids)
        prefixes = dict(ClaimTerms.objects.filter(contract_id__in=contract_ids).values_list("contract_id", "slip_prefix"))
        last = dict(
            SettlementSlip.objects.filter(contract_id__in=contract_ids)
            .values("contract_id").annotate(m=Max("sequence")).values_list("contract_id", "m")
        )
        for pk in new_ids:
            claim = locked[pk]
            sequence = last.get(claim.contract_id, 0) + 1
            last[claim.contract_id] = sequence
            slip = SettlementSlip(claim=claim, contract=contracts[claim.contract_id], sequence=sequence,
                                  number=slip_number(contracts[claim.contract_id], sequence, prefixes.get(claim.contract_id, "")),
                                  issued_by=user, issued_at=now)
            slip.full_clean()
            slip.save()
            slips[pk] = slip
    copies = dict(
        SlipPrint.objects.filter(slip__in=slips.values()).values("slip_id").annotate(m=Max("copy_no")).values_list("slip_id", "m")
    )
    prints = []
    for pk in ids:
        slip = slips[pk]
        record = SlipPrint(slip=slip, copy_no=copies.get(slip.pk, 0) + 1, printed_by=user, printed_at=now, batch_size=len(ids))
        record.full_clean()
        prints.append(record)
    SlipPrint.objects.bulk_create(prints)
    return prints


def slips_print(*, claims: Sequence[Claim], user) -> bytes:
    """Record the prints, then render all slips into ONE PDF.

    Rendering runs after the short write transaction (on SQLite a write transaction blocks
    every other writer; 20 slips take seconds to render). Should rendering fail, the prints
    just recorded — and slips issued by them — are removed again: no copy is counted that
    nobody received.
    """
    prints = slips_issue(claims=claims, user=user)
    try:
        return slip_render(slip_pages(prints, user=user))
    except Exception:
        with transaction.atomic():
            slip_ids = {p.slip_id for p in prints}
            SlipPrint.objects.filter(pk__in=[p.pk for p in prints]).delete()
            SettlementSlip.objects.filter(pk__in=slip_ids, prints__isnull=True).delete()
        raise


def slips_preview(*, claims: Sequence[Claim], user) -> bytes:
    """The slips as they would print, marked "preview, not an official slip" on every page.

    Writes nothing: no slip number is drawn, no print is counted, so looking at a slip (a GET,
    which any page or image of another site can make the browser send) never uses up the
    original (原件). Same checks as printing: permission, areas, approved or paid.
    """
    ids = list(dict.fromkeys(c.pk for c in claims))
    found = _printable_claims(ids, user, lock=False)
    slips = {s.claim_id: s for s in SettlementSlip.objects.filter(claim_id__in=ids)}
    copies = dict(
        SlipPrint.objects.filter(slip__in=slips.values()).values("slip_id").annotate(m=Max("copy_no")).values_list("slip_id", "m")
    )
    now = timezone.now()
    unsaved = []
    for pk in ids:
        slip = slips.get(pk) or SettlementSlip(claim=found[pk], contract_id=found[pk].contract_id, number="")
        unsaved.append(SlipPrint(slip=slip, copy_no=copies.get(slip.pk, 0) + 1, printed_by=user, printed_at=now))
    pages = slip_pages(unsaved, user=user)
    for page in pages:
        page["preview"] = True
    return slip_render(pages)


# --- content ----------------------------------------------------------------------------------


def _liability_totals(calculations: list[Calculation]) -> list[dict]:
    """Per liability across the claim's records: paid by this claim, cumulative paid before
    the claim and after it, and the remaining sum insured after it (from the stored steps)."""
    totals: dict[str, dict] = {}
    names: dict[str, str] = {}
    for calc in calculations:
        for step in calc.explanation:
            code = step.get("liability")
            if "liability_name" in step:
                names[code] = step["liability_name"]
            if step["step"] == "deduction":  # the reviewer's deduction: paid less, cap room kept
                row = totals[code]
                row["paid"] -= Decimal(step["amount"])
                row["deducted"] += Decimal(step["amount"])
                row["after"] = Decimal(step["cum_paid_after"])
                row["remaining"] = None if step["remaining"] is None else Decimal(step["remaining"])
                continue
            if step["step"] != "payable":
                continue
            row = totals.setdefault(code, {"code": code, "paid": Decimal("0"), "deducted": Decimal("0"),
                                           "before": Decimal(step["cum_paid_before"])})
            row["paid"] += Decimal(step["amount"])
            row["after"] = Decimal(step["cum_paid_after"])
            row["remaining"] = None if step["remaining"] is None else Decimal(step["remaining"])
    for code, row in totals.items():
        row["name"] = names.get(code, code)
    return list(totals.values())


def _fee_table(program, settlements: list[Settlement]) -> list[dict]:
    platform_field = program.platform_paid_field
    rows = []
    for field, label, always in FEE_ROWS:
        values = [getattr(s, field) for s in settlements]
        if always or field == platform_field or any(values):
            rows.append({"label": label, "values": values, "total": sum(values, Decimal("0"))})
    return rows


def _person_on(coverage: Coverage) -> dict:
    """Category and employment as they stood on the discharge date, for the slip's first table
    (empty when the person was not covered that day: an approved claim normally was)."""
    if not coverage.covered:
        return {"covered": False, "message": coverage.message}
    return {
        "covered": True,
        "category": Enrollment.Category(coverage.category).label,
        "category_detail": coverage.category_detail,
        "employment": Enrollment.Employment(coverage.employment).label,
    }


def _display_name(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def slip_pages(prints: Sequence[SlipPrint], *, user) -> list[dict]:
    """Each print's slip as template context, in print order. Identities are masked unless
    `user` may see them; amounts and steps come from the stored calculations only."""
    claim_ids = [p.slip.claim_id for p in prints]
    claims = Claim.objects.select_related(
        "contract__program", "contract__insurer", "contract__authority", "person", "area", "registered_by", "approved_by"
    ).prefetch_related(
        Prefetch("settlements", queryset=Settlement.objects.order_by("enddate", "setl_time", "id")),
        Prefetch("calculations", queryset=Calculation.objects.order_by("id")),
        Prefetch("deductions", queryset=Deduction.objects.select_related("settlement", "recorded_by").order_by("id")),
    ).in_bulk(claim_ids)
    # the person as they stood on the discharge date (以出院日期为准), not as the registry says now
    by_contract: dict[int, list[Claim]] = {}
    for claim in claims.values():
        by_contract.setdefault(claim.contract_id, []).append(claim)
    timelines = {contract_id: coverage_timelines(contract=group[0].contract, person_ids=[c.person_id for c in group])
                 for contract_id, group in by_contract.items()}
    pages = []
    for record in prints:
        claim = claims[record.slip.claim_id]
        contract, person = claim.contract, claim.person
        settlements = list(claim.settlements.all())
        calculations = list(claim.calculations.all())
        by_setl = {c.setl_id: c for c in calculations}
        on_discharge = timeline_or_empty(timelines[contract.pk], person.pk, contract).on(claim.enddate)
        fees = _fee_table(contract.program, settlements)
        pages.append({
            "title": contract.effective_slip_title,
            "program": contract.program.name,
            "contract": contract,
            "slip": record.slip,
            "claim": claim,
            "copy_no": record.copy_no,
            "reprint": record.is_reprint,
            "person_name": name_for(user, person.name),
            "person_certno": certno_for(user, person.certno),
            "person": person,
            "on_discharge": _person_on(on_discharge),
            "records": [
                {
                    "settlement": s,
                    "claim_kind": CODE_LABELS.get(s.claim_kind, s.claim_kind),
                    "place": CODE_LABELS.get(s.place, s.place) if s.place else "—",
                    "hosp_lv": HOSP_LEVEL_LABELS.get(s.hosp_lv, s.hosp_lv) or "—",
                }
                for s in settlements
            ],
            "fees": fees,
            "fee_pairs": [fees[i:i + 2] for i in range(0, len(fees), 2)],
            "calculations": [
                {"setl_id": s.setl_id, "blocks": explanation_blocks(by_setl[s.setl_id].explanation)}
                for s in settlements if s.setl_id in by_setl
            ],
            "liabilities": _liability_totals(calculations),
            "deductions": list(claim.deductions.all()),
            "deducted": sum((d.amount for d in claim.deductions.all()), Decimal("0.00")),
            "payable": claim.payable,
            "payable_capitals": amount_in_capitals(claim.payable),
            "registered_by": _display_name(claim.registered_by),
            "approved_by": _display_name(claim.approved_by),
            "printed_at": timezone.localtime(record.printed_at),
            "printed_by": _display_name(record.printed_by),
        })
    return pages


# --- render -----------------------------------------------------------------------------------


def slip_render(pages: list[dict]) -> bytes:
    """All pages' slips in one A4 PDF, each slip starting on a new page."""
    return render_pdf(TEMPLATE, {"slips": pages})

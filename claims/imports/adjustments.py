"""Reviewers' adjustments to imported instant settlements: deductions for non-compliant items
(不合规费用, reduce the payable once all three parties confirmed) and recoveries (追回) of amounts
found wrong after payment (offset against the same hospital's next batch). Audited through
django-simple-history (who, when, reason)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext

from ..models import Deduction, HospitalBatch, Recovery, Settlement
from .batches import batch_payable_posted, batch_totals_refresh

PARTIES = ("hospital", "authority", "insurer")


def settlement_paid(settlement: Settlement) -> Decimal:
    """What the platform paid on the settlement (hifmi_pay/hifob_pay), which the hospital
    advanced and the insurer reimburses; the engine's figure where the program has none."""
    field = settlement.contract.program.platform_paid_field
    if field:
        return getattr(settlement, field)
    check = getattr(settlement, "verification", None)
    return check.engine_payable if check else Decimal("0.00")


def _done_batch(settlement: Settlement) -> HospitalBatch:
    link = getattr(settlement, "hospital_batch_link", None)
    if link is None or link.batch.status != HospitalBatch.Status.DONE:
        raise ValidationError(gettext("Only settlements imported from a hospital batch can be adjusted."))
    return HospitalBatch.objects.select_for_update().get(pk=link.batch_id)


def _open_for_deductions(batch: HospitalBatch) -> None:
    if batch_payable_posted(batch) is not None:
        raise ValidationError(gettext("This batch's payable is with finance already: record a recovery instead."),
                              code="posted")


def _positive(amount: Decimal) -> Decimal:
    if amount is None or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": gettext("Enter a positive amount with at most two decimals.")})
    return amount


@transaction.atomic
def deduction_record(*, settlement: Settlement, amount: Decimal, reason: str, user) -> Deduction:
    """Record a deduction (unconfirmed). All deductions of a settlement together never exceed
    what was paid on it."""
    batch = _done_batch(settlement)
    _open_for_deductions(batch)
    amount = _positive(amount)
    paid = settlement_paid(settlement)
    already = settlement.deductions.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    if already + amount > paid:
        raise ValidationError({"amount": gettext(
            "Deductions %(total)s would exceed the %(paid)s paid on this settlement."
        ) % {"total": already + amount, "paid": paid}})
    deduction = Deduction(settlement=settlement, batch=batch, amount=amount, reason=reason.strip(), recorded_by=user)
    deduction.full_clean()
    deduction._history_user = user
    deduction._change_reason = reason.strip()[:100]
    deduction.save()
    return deduction


@transaction.atomic
def deduction_confirm(*, deduction: Deduction, party: str, on: dt.date, user) -> Deduction:
    """Record one party's confirmation (hospital, authority, insurer). When the third arrives
    the batch's payable drops by the amount."""
    if party not in PARTIES:
        raise ValueError(party)
    deduction = Deduction.objects.select_for_update().get(pk=deduction.pk)
    _open_for_deductions(deduction.batch)
    field = f"{party}_confirmed_on"
    if getattr(deduction, field):
        raise ValidationError(gettext("This party has already confirmed."))
    setattr(deduction, field, on)
    deduction.full_clean()
    deduction._history_user = user
    deduction._change_reason = f"confirmed by {party}"
    deduction.save()
    if deduction.confirmed:
        batch_totals_refresh(batch=deduction.batch)
    return deduction


@transaction.atomic
def recovery_record(*, settlement: Settlement, amount: Decimal, reason: str, found_on: dt.date, user) -> Recovery:
    """Record an amount to recover from the hospital; it is offset against the hospital's next
    imported batch of the same program. Never more than was paid net of confirmed deductions
    and earlier recoveries."""
    _done_batch(settlement)
    amount = _positive(amount)
    confirmed = sum((d.amount for d in settlement.deductions.all() if d.confirmed), Decimal("0.00"))
    earlier = settlement.recoveries.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    left = settlement_paid(settlement) - confirmed - earlier
    if amount > left:
        raise ValidationError({"amount": gettext(
            "At most %(left)s can still be recovered on this settlement."
        ) % {"left": left}})
    recovery = Recovery(settlement=settlement, program=settlement.contract.program,
                        fixmedins_code=settlement.fixmedins_code, amount=amount, reason=reason.strip(),
                        found_on=found_on, recorded_by=user)
    recovery.full_clean()
    recovery._history_user = user
    recovery._change_reason = reason.strip()[:100]
    recovery.save()
    return recovery

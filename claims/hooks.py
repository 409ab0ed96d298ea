"""Hooks through which a higher layer acts inside the claims' own transactions.

claims never imports finance (layers: programs → claims → finance); the money a claim pays
must still leave a fund in the same transaction as the claim becomes PAID. So claims calls
the handlers registered here, and finance registers its booking in `AppConfig.ready()`. A
handler's exception refuses the payment: nothing is written. With no handler registered a
payment is refused too — money never leaves without a ledger entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class ClaimPayment:
    """One claim payment as the workflow recorded it (the claim row is locked)."""

    claim: object  # claims.models.Claim
    amount: Decimal  # yuan, the approved payable
    paid_on: dt.date
    voucher_no: str
    payee_account: str
    user: object


ClaimPaidHandler = Callable[[ClaimPayment], object]
_claim_paid: list[ClaimPaidHandler] = []


def register_claim_paid(handler: ClaimPaidHandler) -> ClaimPaidHandler:
    """Register `handler(payment)`, called when a claim becomes PAID (once per handler)."""
    if handler not in _claim_paid:
        _claim_paid.append(handler)
    return handler


def claim_paid_notify(payment: ClaimPayment) -> list:
    """Run every registered handler inside the caller's transaction; their results in order."""
    if not _claim_paid:
        raise ImproperlyConfigured("No handler books claim payments (finance registers one in FinanceConfig.ready()).")
    return [handler(payment) for handler in _claim_paid]


# --- what claims asks of finance ---------------------------------------------------------------
# Premium suspension (a reviewer is warned before approving) and the hospital payable a DONE
# hospital batch is handed over as. finance registers both in `FinanceConfig.ready()`; without
# it there is no ledger to ask or to write, which is a configuration error, not "nothing".

PremiumSuspension = Callable[[object, dt.date], list]
_premium_suspension: list[PremiumSuspension] = []


def register_premium_suspension(provider: PremiumSuspension) -> PremiumSuspension:
    """Register `provider(contract, on_date)` -> the unpaid overdue installments suspending
    the insurer's liability on that date (empty when the contract's terms do not suspend)."""
    _premium_suspension[:] = [provider]
    return provider


def premium_suspension(contract, on_date: dt.date) -> list:
    if not _premium_suspension:
        raise ImproperlyConfigured("No premium suspension provider (finance registers one in FinanceConfig.ready()).")
    return _premium_suspension[0](contract, on_date)


@dataclass(frozen=True)
class HospitalPayables:
    """finance's side of a hospital batch's handover: `record(**kwargs)` books the payable
    (idempotent on `reference`), `find(reference)` returns it or None."""

    record: Callable[..., object]
    find: Callable[[str], object | None]


_hospital_payables: list[HospitalPayables] = []


def register_hospital_payables(record: Callable[..., object], find: Callable[[str], object | None]) -> HospitalPayables:
    _hospital_payables[:] = [HospitalPayables(record, find)]
    return _hospital_payables[0]


def hospital_payables() -> HospitalPayables:
    if not _hospital_payables:
        raise ImproperlyConfigured("No hospital payable handler (finance registers one in FinanceConfig.ready()).")
    return _hospital_payables[0]

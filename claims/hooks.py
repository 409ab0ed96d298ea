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

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = _("Finance")

    def ready(self) -> None:
        # imports here, not at the top: the app registry is ready only now
        # claims calls this inside the claim's PAID transition (claims/hooks.py): the payment
        # leaves the contract's fund in the same transaction.
        from claims.hooks import register_claim_paid

        from .services import claim_payment_book

        register_claim_paid(claim_payment_book)

        # what claims asks of finance (claims/hooks.py): the suspension warning before approval
        # and the payable a hospital batch is handed over as
        from claims.hooks import register_hospital_payables, register_premium_suspension

        from .selectors import hospital_payable_by_reference, premium_suspension
        from .services import hospital_payable_record

        register_premium_suspension(premium_suspension)
        register_hospital_payables(record=hospital_payable_record, find=hospital_payable_by_reference)

        from insurance_admin.core.deadlines import register_backfill

        from .deadlines import finance_deadlines_backfill

        register_backfill("finance", finance_deadlines_backfill)

        from programs.contract_terms import register_terms

        from .models import FinanceTerms

        register_terms(FinanceTerms, children=("installment_rules",))

        from programs.seed import register_seed_loader

        from .seed import load_finance_seed

        register_seed_loader(load_finance_seed)

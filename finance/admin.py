"""The finance tables in the admin: read-only lists (movements go through the finance pages and
their services); only the finance terms are edited here, by administrators."""

from django.contrib import admin
from unfold.admin import ModelAdmin

from insurance_admin.core.admin_scoping import ScopedAdmin, ScopedFormFieldsMixin, scoped

from .models import (
    FinanceTerms,
    GuaranteeDeposit,
    HospitalPayable,
    LedgerEntry,
    Penalty,
    PremiumInstallment,
    PremiumSchedule,
    Prepayment,
    RevolvingFund,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FinanceTerms)
class FinanceTermsAdmin(ScopedAdmin):
    list_display = ("contract", "clearing", "unpaid_suspends_liability", "operating_cost_rate", "revolving_share", "prepayment_amount")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PremiumSchedule)
class PremiumScheduleAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ("contract", "total", "created_at", "created_by")


@admin.register(PremiumInstallment)
class PremiumInstallmentAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ("contract", "seq", "kind", "due_date", "amount", "withheld", "received")
    list_filter = ("kind", ("contract", admin.RelatedOnlyFieldListFilter))


@admin.register(GuaranteeDeposit)
class GuaranteeDepositAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ("contract", "kind", "required", "held", "return_due")


@admin.register(RevolvingFund)
class RevolvingFundAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ("contract", "opening_amount", "due_date", "balance")


@admin.register(Prepayment)
class PrepaymentAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ("contract", "amount", "due_date", "return_due", "outstanding")


@admin.register(Penalty)
class PenaltyAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ("contract", "kind", "area", "imposed_on", "amount", "settled")
    list_filter = ("kind",)


@admin.register(HospitalPayable)
class HospitalPayableAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ("contract", "period", "area", "fixmedins_name", "amount", "paid", "due_date", "reference")
    search_fields = ("fixmedins_code", "fixmedins_name", "reference")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyMixin, ScopedFormFieldsMixin, ModelAdmin):
    list_display = ("booked_on", "contract", "book", "kind", "amount", "reference", "reverses", "created_by")
    list_filter = ("book", "kind")
    search_fields = ("reference", "memo")

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

"""The finance tables in the admin: read-only lists (movements go through the finance pages and
their services); only the finance terms are edited here, by administrators."""

from django.contrib import admin
from unfold.admin import TabularInline

from insurance_admin.core.admin_scoping import ReadOnlyScopedAdmin, ScopedAdmin

from .deadlines import installment_sync, terms_sync
from .forms import InstallmentRuleForm, InstallmentRuleFormSet
from .models import (
    FinanceTerms,
    GuaranteeDeposit,
    HospitalPayable,
    InstallmentRule,
    LedgerEntry,
    Penalty,
    PremiumInstallment,
    PremiumSchedule,
    Prepayment,
    RevolvingFund,
)


class InstallmentRuleInline(TabularInline):
    """The premium installments of the contract, validated together (shares make 100 %)."""

    model = InstallmentRule
    form = InstallmentRuleForm
    formset = InstallmentRuleFormSet
    extra = 0
    min_num = 1
    fields = ("seq", "share", "takes_remainder", "due_kind", "due_month", "due_day", "due_days", "due_event", "due_parts",
              "note", "clause")


@admin.register(FinanceTerms)
class FinanceTermsAdmin(ScopedAdmin):
    list_display = ("contract", "clearing", "unpaid_suspends_liability", "operating_cost_rate", "revolving_share", "prepayment_amount")
    inlines = [InstallmentRuleInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """The terms' one-off obligations (service window, annual audit) follow the edit in the
        same transaction (the admin's change view is atomic)."""
        super().save_model(request, obj, form, change)
        terms_sync(obj, user=request.user)
        for inst in obj.contract.premium_installments.all():  # the suspension clause may have changed
            installment_sync(inst, user=request.user)


@admin.register(PremiumSchedule)
class PremiumScheduleAdmin(ReadOnlyScopedAdmin):
    list_display = ("contract", "total", "created_at", "created_by")


@admin.register(PremiumInstallment)
class PremiumInstallmentAdmin(ReadOnlyScopedAdmin):
    list_display = ("contract", "seq", "kind", "due_date", "amount", "withheld", "received")
    list_filter = ("kind", ("contract", admin.RelatedOnlyFieldListFilter))


@admin.register(GuaranteeDeposit)
class GuaranteeDepositAdmin(ReadOnlyScopedAdmin):
    list_display = ("contract", "kind", "required", "held", "return_due")


@admin.register(RevolvingFund)
class RevolvingFundAdmin(ReadOnlyScopedAdmin):
    list_display = ("contract", "opening_amount", "due_date", "balance")


@admin.register(Prepayment)
class PrepaymentAdmin(ReadOnlyScopedAdmin):
    list_display = ("contract", "amount", "due_date", "return_due", "outstanding")


@admin.register(Penalty)
class PenaltyAdmin(ReadOnlyScopedAdmin):
    list_display = ("contract", "kind", "area", "imposed_on", "amount", "settled")
    list_filter = ("kind",)


@admin.register(HospitalPayable)
class HospitalPayableAdmin(ReadOnlyScopedAdmin):
    list_display = ("contract", "period", "area", "fixmedins_name", "amount", "paid", "due_date", "reference")
    search_fields = ("fixmedins_code", "fixmedins_name", "reference")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyScopedAdmin):
    list_display = ("booked_on", "contract", "book", "kind", "amount", "reference", "reverses", "created_by")
    list_filter = ("book", "kind")
    search_fields = ("reference", "memo")

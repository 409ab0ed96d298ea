from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from insurance_admin.core.admin_scoping import ScopedFormFieldsMixin

from .models import Settlement


class DifferenceFilter(admin.SimpleListFilter):
    title = _("verification")
    parameter_name = "verification"

    def lookups(self, request, model_admin):
        return [("differs", _("differs from the platform")), ("matches", _("matches the platform")), ("pending", _("not recomputed"))]

    def queryset(self, request, queryset):
        if self.value() == "differs":
            return queryset.exclude(difference=0).exclude(difference__isnull=True)
        if self.value() == "matches":
            return queryset.filter(difference=0)
        if self.value() == "pending":
            return queryset.filter(recomputed_at__isnull=True)
        return queryset


@admin.register(Settlement)
class SettlementAdmin(ScopedFormFieldsMixin, ModelAdmin):
    """Instant settlements with the engine's recomputation beside the platform's figure."""

    list_display = ["setl_id", "contract", "area", "enddate", "claim_kind", "fixmedins_name",
                    "platform_payable", "engine_payable", "difference"]
    list_filter = [DifferenceFilter, "contract", "area", "claim_kind", "source"]
    list_select_related = ["contract", "area"]
    search_fields = ["=setl_id", "=psn_no", "fixmedins_name"]
    show_full_result_count = False
    readonly_fields = ["engine_payable", "engine_by_liability", "platform_payable", "difference", "plan_version", "recomputed_at"]
    raw_id_fields = ["person"]

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def has_change_permission(self, request, obj=None):
        return False  # settlements come from the platform; corrections are deductions/recoveries

    def has_add_permission(self, request):
        return False

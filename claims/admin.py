from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from insurance_admin.core.admin_scoping import ScopedAdmin, ScopedFormFieldsMixin

from .models import Claim, ClaimTerms, DocumentRequirement, Settlement


class DifferenceFilter(admin.SimpleListFilter):
    title = _("verification")
    parameter_name = "verification"

    def lookups(self, request, model_admin):
        return [("differs", _("differs from the platform")), ("matches", _("matches the platform")), ("pending", _("not recomputed"))]

    def queryset(self, request, queryset):
        if self.value() == "differs":
            return queryset.exclude(verification__difference=0).exclude(verification__difference__isnull=True)
        if self.value() == "matches":
            return queryset.filter(verification__difference=0)
        if self.value() == "pending":
            return queryset.filter(verification__isnull=True)
        return queryset


@admin.register(Settlement)
class SettlementAdmin(ScopedFormFieldsMixin, ModelAdmin):
    """Instant settlements with the engine's recomputation beside the platform's figure."""

    list_display = ["setl_id", "contract", "area", "enddate", "claim_kind", "fixmedins_name",
                    "platform_payable", "engine_payable", "difference"]
    list_filter = [DifferenceFilter, "contract", "area", "claim_kind", "source"]
    list_select_related = ["contract", "area", "verification"]
    search_fields = ["=setl_id", "=psn_no", "fixmedins_name"]
    show_full_result_count = False
    raw_id_fields = ["person"]

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def has_change_permission(self, request, obj=None):
        return False  # settlements come from the platform; corrections are deductions/recoveries

    def has_add_permission(self, request):
        return False

    def _check(self, obj):
        return getattr(obj, "verification", None)

    @admin.display(description=_("platform payable"), ordering="verification__platform_payable")
    def platform_payable(self, obj):
        check = self._check(obj)
        return check.platform_payable if check else None

    @admin.display(description=_("engine payable"), ordering="verification__engine_payable")
    def engine_payable(self, obj):
        check = self._check(obj)
        return check.engine_payable if check else None

    @admin.display(description=_("difference"), ordering="verification__difference")
    def difference(self, obj):
        check = self._check(obj)
        return check.difference if check else None


@admin.register(ClaimTerms)
class ClaimTermsAdmin(ScopedAdmin):
    """Each contract's deadline and filing-window clauses, edited when a contract changes."""

    list_display = ["contract", "deadline_days", "deadline_unit", "out_of_area_days", "extended_days", "filing_window_months"]
    fieldsets = [
        (None, {"fields": ["contract"]}),
        (_("Service deadline"), {"fields": ["deadline_days", "deadline_unit", "out_of_area_places", "out_of_area_days",
                                           "out_of_area_unit", "extended_days", "extended_unit", "deadline_rule_text"]}),
        (_("Filing window"), {"fields": ["filing_window_months", "filing_rule_text"]}),
    ]


@admin.register(DocumentRequirement)
class DocumentRequirementAdmin(ModelAdmin):
    list_display = ["program", "position", "label", "required", "claim_kinds", "places"]
    list_filter = ["program", "required"]
    list_editable = ["position", "required"]
    ordering = ["program", "position"]


@admin.register(Claim)
class ClaimAdmin(ScopedAdmin):
    """Read-only in the admin: claims change only through the window's workflow."""

    history_needs_full_identity = True

    list_display = ["claim_no", "contract", "area", "status", "fixmedins_name", "enddate", "due_date", "payable"]
    list_filter = ["status", "contract", "area"]
    search_fields = ["=claim_no"]
    list_select_related = ["contract", "area"]
    raw_id_fields = ["person"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

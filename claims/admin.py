from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from insurance_admin.core.admin_scoping import ScopedAdmin, ScopedFormFieldsMixin

from . import documents
from .models import Claim, ClaimTerms, DocumentRequirement, Settlement, SettlementSlip, SlipPrint


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


@admin.action(description=_("Print settlement slips (one PDF)"), permissions=["print_slip"])
def print_slips(modeladmin, request, queryset):
    """The selected claims' slips in ONE PDF (one document is far cheaper than many). A batch
    holding a claim that is not approved is refused as a whole, naming the claims."""
    claims = list(queryset.order_by("contract", "claim_no"))
    try:
        pdf = documents.slips_print(claims=claims, user=request.user)
    except (documents.SlipRefused, PermissionDenied) as exc:
        modeladmin.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
        return None
    from .views import pdf_response

    return pdf_response(pdf, "slips.pdf", attachment=True)


@admin.register(Claim)
class ClaimAdmin(ScopedAdmin):
    """Claims of the user's areas (read here; they change through the workflow only)."""

    list_display = ["claim_no", "person", "contract", "area", "status", "fixmedins_name", "enddate", "due_date", "payable",
                    "slip_link"]
    list_filter = ["status", "contract", "area"]
    list_select_related = ["person", "contract", "area"]
    search_fields = ["=claim_no"]
    raw_id_fields = ["person"]
    actions = [print_slips]
    history_needs_full_identity = True

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_print_slip_permission(self, request):
        return request.user.has_perm(documents.PERM_PRINT_SLIP)

    @admin.display(description=_("settlement slip"))
    def slip_link(self, obj):
        if obj.status not in documents.PRINTABLE:
            return "—"
        return format_html('<a href="{}" target="_blank">{}</a>', reverse("claim_slip", args=[obj.pk]), _("Print"))


class SlipPrintInline(TabularInline):
    model = SlipPrint
    fields = ["copy_no", "printed_at", "printed_by", "batch_size"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # prints have no permissions of their own: whoever reads the slip reads its log
        return request.user.has_perm("claims.view_settlementslip")


@admin.register(SettlementSlip)
class SettlementSlipAdmin(ScopedFormFieldsMixin, ModelAdmin):
    """The print log: every slip with each of its prints (who, when, which copy)."""

    list_display = ["number", "claim", "contract", "issued_at", "issued_by", "copies"]
    list_filter = ["contract"]
    list_select_related = ["claim", "contract", "issued_by"]
    search_fields = ["=number", "=claim__claim_no"]
    fields = ["number", "claim", "contract", "sequence", "issued_at", "issued_by"]
    readonly_fields = fields
    inlines = [SlipPrintInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).for_user(request.user).annotate(copy_count=Count("prints"))

    @admin.display(description=_("copies printed"), ordering="copy_count")
    def copies(self, obj):
        return obj.copy_count

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportMixin
from import_export.formats import base_formats
from import_export.forms import ConfirmImportForm
from unfold.admin import TabularInline
from unfold.contrib.import_export.forms import ImportForm
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from insurance_admin.core.admin_scoping import ReadOnlyScopedAdmin, ScopedAdmin
from insurance_admin.core.imports.admin_forms import CheckedImportFileMixin
from insurance_admin.core.masking import can_see_payment_details, mask_account, mask_name
from programs.benefit_rules.glossary import CLAIM_KINDS, PLACES
from programs.identity_access import identity_access_record_persons
from programs.models import Contract

from . import documents
from .models import (
    Claim,
    ClaimTerms,
    Deduction,
    DocumentRequirement,
    EntitlementGroup,
    EntitlementKind,
    HospitalBatch,
    HospitalBatchLog,
    HospitalSettlementTerms,
    Recovery,
    Settlement,
    SettlementSlip,
    SlipPrint,
)
from .presentation import CODE_LABELS
from .resources import SettlementResource, SniffedCSV
from .views import pdf_response


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


class SettlementImportForm(CheckedImportFileMixin, ImportForm):
    """The admin import asks which contract and month the hospital's file is for."""

    contract = forms.ModelChoiceField(label=_("contract"), queryset=Contract.objects.none(), widget=UnfoldAdminSelectWidget)
    month = forms.DateField(label=_("settlement month"), input_formats=["%Y-%m"], help_text="YYYY-MM",
                            widget=UnfoldAdminTextInputWidget)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = Contract.objects.for_user(user)


class SettlementConfirmImportForm(ConfirmImportForm):
    contract = forms.ModelChoiceField(queryset=Contract.objects.all(), widget=forms.HiddenInput())
    month = forms.DateField(widget=forms.HiddenInput())


@admin.register(Settlement)
class SettlementAdmin(ImportMixin, ReadOnlyScopedAdmin):
    """Instant settlements with the engine's recomputation beside the platform's figure; a
    hospital's monthly file can be imported here (preview with row errors, then confirm).
    Read-only: settlements come from the platform; corrections are deductions/recoveries."""

    resource_classes = [SettlementResource]
    import_form_class = SettlementImportForm
    confirm_form_class = SettlementConfirmImportForm
    import_formats = [SniffedCSV, base_formats.XLSX]

    list_display = ["setl_id", "contract", "area", "enddate", "claim_kind", "fixmedins_name",
                    "platform_payable", "engine_payable", "difference"]
    list_filter = [DifferenceFilter, "contract", "area", "claim_kind", "source"]
    list_select_related = ["contract", "area", "verification"]
    search_fields = ["=setl_id", "=psn_no", "fixmedins_name"]
    show_full_result_count = False
    raw_id_fields = ["person"]

    def has_import_permission(self, request):
        return request.user.has_perm("claims.import_hospitalbatch")

    def get_import_form_kwargs(self, request):
        return {**super().get_import_form_kwargs(request), "user": request.user}

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial.update(contract=import_form.cleaned_data["contract"].pk,
                           month=import_form.cleaned_data["month"].isoformat())
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        data = form.cleaned_data if form is not None and hasattr(form, "cleaned_data") else {}
        contract = data.get("contract")
        if contract is not None:
            contract = Contract.objects.for_user(request.user).select_related("program", "benefit_plan").get(pk=contract.pk)
        return {"contract": contract, "month": data.get("month"), "user": request.user}

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
        (_("Settlement slips"), {"fields": ["slip_prefix"]}),
    ]


class DocumentRequirementForm(forms.ModelForm):
    """Claim kinds and places as ticked words, stored as the code lists the checklist reads."""

    claim_kinds = forms.MultipleChoiceField(
        label=_("only for claim kinds"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(k, CODE_LABELS.get(k, k)) for k in CLAIM_KINDS], help_text=_("none ticked: every claim kind"),
    )
    places = forms.MultipleChoiceField(
        label=_("only for places"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(p, CODE_LABELS.get(p, p)) for p in PLACES], help_text=_("none ticked: every place"),
    )

    class Meta:
        model = DocumentRequirement
        fields = ["program", "code", "label", "claim_kinds", "places", "required", "position"]


def _words(codes) -> str:
    return "、".join(CODE_LABELS.get(c, c) for c in codes or ()) or "—"


@admin.register(DocumentRequirement)
class DocumentRequirementAdmin(ScopedAdmin):
    form = DocumentRequirementForm
    list_display = ["program", "position", "label", "required", "kinds_shown", "places_shown"]
    list_filter = ["program", "required"]
    list_editable = ["position", "required"]
    ordering = ["program", "position"]

    @admin.display(description=_("only for claim kinds"))
    def kinds_shown(self, obj):
        return _words(obj.claim_kinds)

    @admin.display(description=_("only for places"))
    def places_shown(self, obj):
        return _words(obj.places)


class EntitlementKindInline(TabularInline):
    model = EntitlementKind
    extra = 0
    fields = ["position", "name"]


@admin.register(EntitlementGroup)
class EntitlementGroupAdmin(ScopedAdmin):
    """A contract's member services (健康管理服务) and their limits, as the window applies them."""

    list_display = ["contract", "position", "name", "yearly_count_limit", "subsidy_rate", "per_use_cap",
                    "yearly_amount_cap", "eligibility", "choose_one"]
    list_filter = ["contract"]
    inlines = [EntitlementKindInline]
    fields = ["contract", "code", "name", "position", "yearly_count_limit", "subsidy_rate", "per_use_cap",
              "yearly_amount_cap", "eligibility", "choose_one", "source"]


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

    identity_access_record_persons(user=request.user, persons=list({c.person_id: c.person for c in claims}.values()),
                                   where="admin: slips.pdf")
    return pdf_response(pdf, "slips.pdf", attachment=True)


@admin.register(Claim)
class ClaimAdmin(ReadOnlyScopedAdmin):
    """Claims of the user's areas (read here; they change through the workflow only)."""

    list_display = ["claim_no", "person", "contract", "area", "status", "fixmedins_name", "enddate", "due_date", "payable",
                    "slip_link"]
    list_filter = ["status", "contract", "area"]
    list_select_related = ["person", "contract", "area"]
    search_fields = ["=claim_no"]
    raw_id_fields = ["person"]
    actions = [print_slips]
    history_needs_full_identity = True

    def has_print_slip_permission(self, request):
        return request.user.has_perm(documents.PERM_PRINT_SLIP)

    # Payee and account in full only for the roles that pay or need identities; the others
    # (supervisors) read them masked, as on the claim page. Codes read as their labels.
    _MASKED = {"payee_name": "payee_masked", "bank_account": "bank_account_masked"}
    _LABELLED = {"claim_kind": "claim_kind_label", "place": "place_label"}

    def get_fields(self, request, obj=None):
        swap = dict(self._LABELLED)
        if not can_see_payment_details(request.user):
            swap.update(self._MASKED)
        added = {*self._MASKED.values(), *self._LABELLED.values()}
        return [swap.get(f, f) for f in super().get_fields(request, obj) if f not in added]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self._MASKED.values(), *self._LABELLED.values()]

    @admin.display(description=_("claim kind"))
    def claim_kind_label(self, obj):
        return CODE_LABELS.get(obj.claim_kind, obj.claim_kind)

    @admin.display(description=_("place"))
    def place_label(self, obj):
        return CODE_LABELS.get(obj.place, obj.place) if obj.place else "—"

    @admin.display(description=_("payee"))
    def payee_masked(self, obj):
        return mask_name(obj.payee_name)

    @admin.display(description=_("bank account"))
    def bank_account_masked(self, obj):
        return mask_account(obj.bank_account) if obj.bank_account else ""

    @admin.display(description=_("settlement slip"))
    def slip_link(self, obj):
        if obj.status not in documents.PRINTABLE:
            return "—"
        return format_html('<a href="{}" target="_blank">{}</a>', reverse("claim_slip", args=[obj.pk]), _("Preview"))


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
class SettlementSlipAdmin(ReadOnlyScopedAdmin):
    """The print log: every slip with each of its prints (who, when, which copy)."""

    list_display = ["number", "claim", "contract", "issued_at", "issued_by", "copies"]
    list_filter = ["contract"]
    list_select_related = ["claim", "contract", "issued_by"]
    search_fields = ["=number", "=claim__claim_no"]
    fields = ["number", "claim", "contract", "sequence", "issued_at", "issued_by"]
    readonly_fields = fields
    inlines = [SlipPrintInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(copy_count=Count("prints"))

    @admin.display(description=_("copies printed"), ordering="copy_count")
    def copies(self, obj):
        return obj.copy_count


class HospitalBatchLogInline(admin.TabularInline):
    model = HospitalBatchLog
    extra = 0
    can_delete = False
    fields = ["at", "action", "by", "file_sha256", "summary"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(HospitalBatch)
class HospitalBatchAdmin(ReadOnlyScopedAdmin):
    """Read-only record of hospital files; uploads and confirmations happen on the page
    /claims/hospital-batches/ (or through the settlement import above)."""

    list_display = ["month", "fixmedins_name", "contract", "status", "row_count", "created_count", "differing_count",
                    "payable_total", "due_date", "uploaded_by", "uploaded_at"]
    list_filter = ["status", "contract"]
    search_fields = ["fixmedins_name", "=fixmedins_code", "=file_sha256"]
    inlines = [HospitalBatchLogInline]
    exclude = ["errors", "preview"]


class _AdjustmentAdmin(ReadOnlyScopedAdmin):
    """Deductions and recoveries are recorded on the batch page (services with audit); the
    admin shows them with their history."""


@admin.register(Deduction)
class DeductionAdmin(_AdjustmentAdmin):
    list_display = ["settlement", "batch", "claim", "amount", "reason", "hospital_confirmed_on", "authority_confirmed_on",
                    "insurer_confirmed_on", "recorded_by"]
    list_select_related = ["settlement", "batch", "claim", "recorded_by"]


@admin.register(Recovery)
class RecoveryAdmin(_AdjustmentAdmin):
    list_display = ["settlement", "fixmedins_code", "amount", "reason", "found_on", "offset_batch", "recorded_by"]
    list_select_related = ["settlement", "offset_batch", "recorded_by"]


@admin.register(HospitalSettlementTerms)
class HospitalSettlementTermsAdmin(ScopedAdmin):
    """When the insurer pays hospitals, per contract (DOMAIN.md §6); a contract without terms
    pays by agreement."""

    list_display = ["contract", "rule", "pay_day", "report_by_day", "working_days", "source"]

import json

from django import forms
from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm
from unfold.admin import TabularInline
from unfold.contrib.import_export.forms import ImportForm as UnfoldImportForm
from unfold.widgets import UnfoldAdminDecimalFieldWidget, UnfoldAdminTextareaWidget

from insurance_admin.core.admin_scoping import (
    ReadOnlyScopedAdmin,
    ScopedAdmin,
    ScopedFormFieldsMixin,
)
from insurance_admin.core.imports.admin_forms import CheckedImportFileMixin
from insurance_admin.core.masking import can_see_full_identity, mask_certno, mask_name

from . import services
from .forms import EnrollmentInlineFormSet, InsuredPersonAdminForm
from .models import (
    Area,
    BenefitPlan,
    Contract,
    Enrollment,
    EnrollmentPeriod,
    ImportBatch,
    InsuredPerson,
    Party,
    PartyContact,
    PremiumRate,
    Program,
    SmsNotification,
)
from .plan_presentation import plan_check_messages, plan_summary
from .resources import IMPORT_FORMATS, EnrollmentListResource
from .selectors import contract_snapshots
from .services import benefit_plan_update


class PrettyJSONEncoder(json.JSONEncoder):
    def __init__(self, *args, indent=None, ensure_ascii=None, **kwargs):
        super().__init__(*args, indent=2, ensure_ascii=False, **kwargs)


class PartyContactInline(TabularInline):
    model = PartyContact
    extra = 0


@admin.register(Party)
class PartyAdmin(ScopedAdmin):
    list_display = ["name", "kind", "address", "bank_name", "bank_account"]
    list_filter = ["kind"]
    search_fields = ["name"]
    inlines = [PartyContactInline]


@admin.register(Area)
class AreaAdmin(ScopedAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level", "parent"]
    search_fields = ["code", "name"]


@admin.register(Program)
class ProgramAdmin(ScopedAdmin):
    list_display = ["code", "name", "kind", "region"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


class PremiumRateInline(ScopedFormFieldsMixin, TabularInline):
    model = PremiumRate
    extra = 0


@admin.register(Contract)
class ContractAdmin(ScopedAdmin):
    list_display = [  # the title, not the internal code (issue 23): the code stays searchable
        "name",
        "year",
        "period_start",
        "period_end",
        "headcount_provisional",
        "headcount_final",
        "total_premium",
        "status",
    ]
    list_filter = ["year", "program__kind", "status"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["program", "authority", "insurer"]
    inlines = [PremiumRateInline]
    fieldsets = [
        (None, {"fields": ["code", "program", "name", "year", "slip_title", "status"]}),
        (_("Period"), {"fields": [("period_start", "period_end"), "signed_on", ("service_cycle_start", "service_cycle_end")]}),
        (_("Parties"), {"fields": ["authority", "insurer"]}),
        (
            _("Headcount and premium"),
            {
                "fields": [
                    ("headcount_provisional", "headcount_provisional_date"),
                    ("headcount_final", "headcount_final_date"),
                    "total_premium",
                ]
            },
        ),
        (_("Notes"), {"fields": ["notes"]}),
    ]
    # status changes through the renewal pages only (activation validates every term; closing ends a year)
    readonly_fields = ["registry_headcount", "status"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.insert(4, (_("Headcount from the registry"), {"fields": ["registry_headcount"]}))
        return fieldsets

    @admin.display(description=_("registry headcount snapshots"))
    def registry_headcount(self, obj):
        if obj is None or not obj.pk:
            return "—"
        return render_to_string("programs/_headcount_snapshots.html", {"contract": obj, "tables": contract_snapshots(obj)})


class EnrollmentInline(ScopedFormFieldsMixin, TabularInline):
    model = Enrollment
    formset = EnrollmentInlineFormSet
    extra = 0
    fields = ["contract", "area", "category", "employment", "health", "status", "source", "enrolled_from", "enrolled_to"]

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user).select_related("contract", "area")


@admin.register(InsuredPerson)
class InsuredPersonAdmin(ScopedAdmin):
    form = InsuredPersonAdminForm
    search_fields = ["=certno", "=psn_no", "^name"]
    inlines = [EnrollmentInline]
    history_needs_full_identity = True
    list_per_page = 50
    show_full_result_count = False  # a COUNT(*) over millions of rows on every page is waste

    def get_list_display(self, request):
        if can_see_full_identity(request.user):
            return ["name", "certno", "sex", "birth_date", "psn_no"]
        return ["masked_name", "masked_certno", "sex", "psn_no"]

    def get_fields(self, request, obj=None):
        if can_see_full_identity(request.user):
            return ["certno", "name", "sex", "birth_date", "psn_no", "phone"]
        return ["masked_name", "masked_certno", "sex", "psn_no"]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if can_see_full_identity(request.user):
            return readonly
        return [*readonly, *(f for f in ["masked_name", "masked_certno", "sex", "psn_no"] if f not in readonly)]

    @admin.display(description=_("ID number"))
    def masked_certno(self, obj):
        return mask_certno(obj.certno)

    @admin.display(description=_("name"))
    def masked_name(self, obj):
        return mask_name(obj.name)


@admin.register(Enrollment)
class EnrollmentAdmin(ScopedAdmin):
    list_display = ["person_masked", "contract", "area", "category", "employment", "status", "source", "enrolled_from", "enrolled_to"]
    list_filter = ["contract", "status", "category", "employment", "source", "area"]
    list_select_related = ["person", "contract", "area"]
    raw_id_fields = ["person"]
    search_fields = ["=person__certno", "=person__psn_no"]
    show_full_result_count = False

    def get_list_display(self, request):
        person = "person_full" if can_see_full_identity(request.user) else "person_masked"
        return [person, *self.list_display[1:]]

    @admin.display(description=_("insured person"))
    def person_full(self, obj):
        return f"{obj.person.name} {obj.person.certno}"

    @admin.display(description=_("insured person"))
    def person_masked(self, obj):
        return str(obj.person)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return readonly if can_see_full_identity(request.user) or "person" in readonly else [*readonly, "person"]


class BenefitPlanForm(forms.ModelForm):
    rules = forms.JSONField(
        label=_("rules"),
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 40, "style": "font-family: monospace"}),
        encoder=PrettyJSONEncoder,
        help_text=_(
            "Liabilities with their base formula, schedule rows (selector, deductible, bands: upto/rate), "
            "caps and per-item caps; shared caps; named parameters. Amounts and rates as strings. "
            "Saving checks bands for overlaps and gaps, rates within 0–1 and amounts not negative."
        ),
    )

    class Meta:
        model = BenefitPlan
        fields = ["contract", "rules"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Named parameters (e.g. Beijing's critical-illness deductible, changed yearly by the
        # city) get a field of their own: an administrator changes one figure, not the JSON.
        self.parameter_fields = []
        for param in (self.instance.rules or {}).get("parameters", []) if self.instance.pk else []:
            name = f"param__{param['name']}"
            self.fields[name] = forms.DecimalField(
                label=param.get("description") or param["name"],
                help_text=_("Parameter %(name)s, used wherever the rules refer to it.") % {"name": param["name"]},
                initial=param["value"], max_digits=14, decimal_places=2, min_value=0,
                widget=UnfoldAdminDecimalFieldWidget,
            )
            self.parameter_fields.append((name, param["name"]))

    def clean(self):
        cleaned = super().clean()
        rules = cleaned.get("rules")
        if isinstance(rules, dict):
            for field, name in self.parameter_fields:
                value = cleaned.get(field)
                initial = self.fields[field].initial
                if value is not None and str(value) != str(initial):
                    for param in rules.get("parameters", []):
                        if param["name"] == name:
                            param["value"] = f"{value:.2f}"
        if "rules" in cleaned:
            # the engine's checks, said in Chinese with the liability, row and band named
            problems = plan_check_messages(rules, cleaned.get("contract"))
            if problems:
                self.add_error("rules", problems)
        return cleaned

    def _post_clean(self):
        # BenefitPlan.clean() runs the same checks and would repeat them in the engine's
        # English: the rules already refused here are not handed to the model.
        if self.has_error("rules"):
            return
        super()._post_clean()


@admin.register(BenefitPlan)
class BenefitPlanAdmin(ScopedAdmin):
    form = BenefitPlanForm
    list_display = ["contract", "version", "updated_at", "liability_names"]
    readonly_fields = ["version", "updated_at", "summary"]

    def get_fields(self, request, obj=None):
        params = [f"param__{p['name']}" for p in (obj.rules.get("parameters", []) if obj else [])]
        return ["contract", "version", "updated_at", "summary", *params, "rules"]

    def get_form(self, request, obj=None, **kwargs):
        # the parameter fields are added by the form itself, not taken from the model
        kwargs["fields"] = ["contract", "rules"]
        return super().get_form(request, obj, **kwargs)

    @admin.display(description=_("liabilities"))
    def liability_names(self, obj):
        return "、".join(li["name"] for li in obj.rules.get("liabilities", []))

    @admin.display(description=_("summary"))
    def summary(self, obj):
        if obj is None or not obj.pk:
            return "—"
        return render_to_string("programs/_benefit_plan_summary.html", {"plan_rows": plan_summary(obj.engine_plan())})

    def save_model(self, request, obj, form, change):
        if change:
            updated = benefit_plan_update(benefit_plan=obj, rules=form.cleaned_data["rules"], reason=_("edited in the admin"))
            obj.version = updated.version
        else:
            super().save_model(request, obj, form, change)


# --- enrollment lists: small files through django-import-export -------------------------------


class _ListFieldsMixin(forms.Form):
    contract = forms.ModelChoiceField(label=_("Contract"), queryset=Contract.objects.none())
    effective_date = forms.DateField(label=_("Effective date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def set_user(self, user):
        self.fields["contract"].queryset = Contract.objects.for_user(user)


class EnrollmentListImportForm(CheckedImportFileMixin, _ListFieldsMixin, UnfoldImportForm):
    pass


class EnrollmentListConfirmForm(_ListFieldsMixin, ConfirmImportForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("contract", "effective_date"):
            self.fields[name].widget = forms.HiddenInput()


class EnrollmentAdminWithImport(ImportMixin, EnrollmentAdmin):
    """Enrollment admin with 导入 for small lists (up to a few thousand rows)."""

    resource_classes = [EnrollmentListResource]
    import_form_class = EnrollmentListImportForm
    confirm_form_class = EnrollmentListConfirmForm
    import_template_name = "admin/import_export/import.html"
    skip_import_confirm = False

    def get_import_formats(self):
        return IMPORT_FORMATS

    def has_import_permission(self, request):
        return request.user.has_perm("programs.import_enrollment_list")

    def create_import_form(self, request):
        form = super().create_import_form(request)
        form.set_user(request.user)
        return form

    def create_confirm_form(self, request, import_form=None):
        form = super().create_confirm_form(request, import_form)
        form.set_user(request.user)
        return form

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["contract"] = import_form.cleaned_data["contract"].pk
            initial["effective_date"] = import_form.cleaned_data["effective_date"]
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        if form is not None and getattr(form, "cleaned_data", None) and "contract" in form.cleaned_data:
            return {
                "contract": form.cleaned_data["contract"],
                "effective_date": form.cleaned_data["effective_date"],
                "user": request.user,
            }
        return {"user": request.user}


admin.site.unregister(Enrollment)
admin.site.register(Enrollment, EnrollmentAdminWithImport)


class EnrollmentPeriodInline(TabularInline):
    model = EnrollmentPeriod
    extra = 0
    can_delete = False
    fields = ["valid_from", "valid_to", "area", "category", "category_detail", "employment", "status", "batch"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


EnrollmentAdminWithImport.inlines = [EnrollmentPeriodInline]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyScopedAdmin):
    list_display = ["file_name", "contract", "effective_date", "mode", "status", "rows_read", "rows_rejected",
                    "rows_added", "rows_changed", "rows_exited", "created_by", "created_at"]
    list_filter = ["status", "contract"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]


@admin.register(SmsNotification)
class SmsNotificationAdmin(ReadOnlyScopedAdmin):
    list_display = ["key", "masked_person", "status", "attempts", "created_at", "sent_at", "backend"]
    list_filter = ["status"]
    fields = ["key", "masked_person", "message", "status", "attempts", "created_at", "sent_at", "backend",
              "message_id", "error"]
    readonly_fields = fields
    actions = ["resend_failed"]

    def has_resend_permission(self, request):
        return request.user.has_perm("programs.change_smsnotification")

    @admin.action(description=_("Send the selected failed messages again"), permissions=["resend"])
    def resend_failed(self, request, queryset):
        failed = list(queryset.filter(status=SmsNotification.Status.FAILED))
        requeued = sum(services.sms_notification_requeue(notification=n) for n in failed)
        self.message_user(request, ngettext("%(count)d message queued again.", "%(count)d messages queued again.",
                                            requeued) % {"count": requeued})

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person")

    @admin.display(description=_("insured person"))
    def masked_person(self, obj):
        return str(obj.person)

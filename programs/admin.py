import json

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline
from unfold.widgets import UnfoldAdminDecimalFieldWidget, UnfoldAdminTextareaWidget

from insurance_admin.core.admin_scoping import ScopedAdmin, ScopedFormFieldsMixin

from .forms import EnrollmentInlineFormSet, InsuredPersonAdminForm
from .masking import can_see_full_identity, mask_certno, mask_name
from .models import (
    Area,
    BenefitPlan,
    Contract,
    Enrollment,
    InsuredPerson,
    Party,
    PartyContact,
    PremiumRate,
    Program,
)
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
    list_display = [
        "code",
        "name",
        "year",
        "period_start",
        "period_end",
        "headcount_provisional",
        "headcount_final",
        "total_premium",
    ]
    list_filter = ["year", "program__kind"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["program", "authority", "insurer"]
    inlines = [PremiumRateInline]
    fieldsets = [
        (None, {"fields": ["code", "program", "name", "year", "slip_title"]}),
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
        if can_see_full_identity(request.user):
            return []
        return ["masked_name", "masked_certno", "sex", "psn_no"]

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
        return [] if can_see_full_identity(request.user) else ["person"]


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
        return cleaned


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
        from django.template.loader import render_to_string

        if obj is None or not obj.pk:
            return "—"
        from claims.presentation import plan_summary

        return render_to_string("programs/_benefit_plan_summary.html", {"plan_rows": plan_summary(obj.engine_plan())})

    def save_model(self, request, obj, form, change):
        if change:
            updated = benefit_plan_update(benefit_plan=obj, rules=form.cleaned_data["rules"], reason=_("edited in the admin"))
            obj.version = updated.version
        else:
            super().save_model(request, obj, form, change)

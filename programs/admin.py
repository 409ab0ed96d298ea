from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from insurance_admin.core.admin_scoping import ScopedAdmin, ScopedFormFieldsMixin

from .forms import EnrollmentInlineFormSet, InsuredPersonAdminForm
from .masking import can_see_full_identity, mask_certno, mask_name
from .models import Area, Contract, Enrollment, InsuredPerson, Party, PartyContact, PremiumRate, Program


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

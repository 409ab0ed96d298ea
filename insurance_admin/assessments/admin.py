"""The assessment templates in the admin (administrators keep them as data: items, weights
summing to 100, grade bands, the money rules); results and daily records are listed read-only
(they change only through the assessment pages and their services)."""

from django.contrib import admin
from unfold.admin import TabularInline

from insurance_admin.core.admin_scoping import ReadOnlyScopedAdmin, ScopedAdmin

from .forms import GradeFormSet, ItemAdminForm, ItemFormSet
from .models import Assessment, AssessmentItem, AssessmentTemplate, GradeBand, SupervisionRecord


class ItemInline(TabularInline):
    model = AssessmentItem
    form = ItemAdminForm
    formset = ItemFormSet
    extra = 0
    min_num = 1


class GradeInline(TabularInline):
    model = GradeBand
    formset = GradeFormSet
    extra = 0
    min_num = 1


@admin.register(AssessmentTemplate)
class AssessmentTemplateAdmin(ScopedAdmin):
    list_display = ("name", "contract", "deduction_method", "deposit_kind", "rereview_working_days")
    inlines = [ItemInline, GradeInline]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "contract"] if obj is not None and "contract" not in readonly else readonly


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyScopedAdmin):
    list_display = ("contract", "kind", "period_start", "period_end", "total", "grade", "outcome", "assessed_on")
    list_filter = ("kind", "outcome")


@admin.register(SupervisionRecord)
class SupervisionRecordAdmin(ReadOnlyScopedAdmin):
    list_display = ("on_date", "contract", "area", "item", "points", "recorded_by")
    list_filter = ("on_date",)

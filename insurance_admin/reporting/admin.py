"""Periodic reports in the admin: the runs read-only (they are written by the generation
service only; the files are linked through the scoped download view, never a media URL), the
report requirements of each contract edited by administrators (saving one brings the
contract's report periods and deadlines in step)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from insurance_admin.core.admin_scoping import ReadOnlyScopedAdmin, ScopedAdmin
from programs.models import Contract

from .models import ReportRun, ReportTerm
from .services import report_dues_sync


@admin.register(ReportRun)
class ReportRunAdmin(ReadOnlyScopedAdmin):
    list_display = ("kind", "contract", "area", "period_start", "version", "status", "trigger", "generated_at")
    list_filter = ("kind", "status", "trigger", ("contract", admin.RelatedOnlyFieldListFilter))
    fields = ("kind", "contract", "area", "period_start", "period_end", "basis", "version", "status", "trigger",
              "generated_by", "generated_at", "pdf_link", "pdf_sha256", "xlsx_link", "xlsx_sha256")
    readonly_fields = fields
    date_hierarchy = None

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("reporting:run_file", args=[obj.pk, "pdf"]), _("Download"))

    @admin.display(description=_("XLSX"))
    def xlsx_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("reporting:run_file", args=[obj.pk, "xlsx"]), _("Download"))


@admin.register(ReportTerm)
class ReportTermAdmin(ScopedAdmin):
    list_display = ("contract", "kind", "due_months_after", "due_day", "basis")
    list_filter = ("kind", ("contract", admin.RelatedOnlyFieldListFilter))

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        previous = ReportTerm.objects.filter(pk=obj.pk).values_list("contract_id", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        report_dues_sync(obj.contract)
        if previous is not None and previous != obj.contract_id:
            report_dues_sync(Contract.objects.get(pk=previous))

from django.contrib import admin

from insurance_admin.core.admin_scoping import ScopedAdmin

from .models import StaffingCommitment, StaffMember


@admin.register(StaffingCommitment)
class StaffingCommitmentAdmin(ScopedAdmin):
    list_display = ["contract", "min_total", "min_medical", "min_fulltime_per_window", "max_fulltime_per_window",
                    "first_contact_role", "notice_days"]


@admin.register(StaffMember)
class StaffMemberAdmin(ScopedAdmin):
    """The roster, kept by the administrator (the roster page shows it against the commitments)."""

    list_display = ["name", "contract", "area", "team_role", "medical_background", "full_time", "at_window",
                    "active_from", "active_to"]
    list_filter = ["contract", "team_role", "medical_background", "full_time"]
    search_fields = ["name"]
    autocomplete_fields = []
    raw_id_fields = []

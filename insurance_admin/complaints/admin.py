from django.contrib import admin

from insurance_admin.core.admin_scoping import ScopedAdmin

from .models import ComplaintTerms


@admin.register(ComplaintTerms)
class ComplaintTermsAdmin(ScopedAdmin):
    """Each contract's complaint clock: its own answer time, and the defaults per complexity."""

    list_display = ["contract", "answer_days", "simple_days", "complex_days"]

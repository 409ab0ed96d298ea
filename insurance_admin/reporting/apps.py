"""Periodic reports generated on schedule and stored as report runs (PDF + XLSX, SHA-256)."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "insurance_admin.reporting"
    label = "reporting"
    verbose_name = _("Periodic reports")

    def ready(self):
        # imports here, not at the top: the app registry is ready only now
        from insurance_admin.core.deadlines import register_backfill

        from .services import report_dues_backfill

        register_backfill("reporting", report_dues_backfill)

        from programs.contract_terms import register_terms

        from .models import ReportTerm

        register_terms(ReportTerm)

        from programs.seed import register_seed_loader

        from .seed import load_report_terms

        register_seed_loader(load_report_terms)  # `seed_contracts` puts the seed contracts' rows back

"""Complaints (投诉) received at the window, by phone or from the authority, on an answer clock."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "insurance_admin.complaints"
    label = "complaints"
    verbose_name = _("Complaints")

    def ready(self) -> None:
        # imports here, not at the top: the app registry is ready only now
        from insurance_admin.core.deadlines import register_backfill

        from . import kpis  # noqa: F401  (registers the KPIs)
        from .services import complaints_deadlines_backfill

        register_backfill("complaints", complaints_deadlines_backfill)

        from programs.contract_terms import register_terms

        from .models import ComplaintTerms

        register_terms(ComplaintTerms)

        from programs.seed import register_seed_loader

        from .seed import load_complaint_terms

        register_seed_loader(load_complaint_terms)  # `seed_contracts` puts the seed contracts' rows back

"""The joint office's roster per contract and area, checked against the contract's commitments."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffingConfig(AppConfig):
    name = "insurance_admin.staffing"
    label = "staffing"
    verbose_name = _("Staffing")

    def ready(self) -> None:
        # imports here, not at the top: the app registry is ready only now
        from programs.contract_terms import register_terms

        from . import kpis  # noqa: F401  (registers the KPI)
        from .models import StaffingCommitment

        register_terms(StaffingCommitment)

        from programs.seed import register_seed_loader

        from .seed import load_staffing_commitments

        register_seed_loader(load_staffing_commitments)  # `seed_contracts` puts the seed contracts' rows back

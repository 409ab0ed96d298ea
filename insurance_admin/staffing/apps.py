"""The joint office's roster per contract and area, checked against the contract's commitments."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffingConfig(AppConfig):
    name = "insurance_admin.staffing"
    label = "staffing"
    verbose_name = _("Staffing")

    def ready(self) -> None:
        # imports here, not at the top: the app registry is ready only now
        from . import kpis  # noqa: F401  (registers the KPI)

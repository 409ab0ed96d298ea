from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpisConfig(AppConfig):
    name = "insurance_admin.kpis"
    label = "kpis"
    verbose_name = _("Performance indicators")

    def ready(self):
        # register the KPIs of this package (each module registers its own on import)
        from . import claims, claims_service, deadlines, funds, settlements  # noqa: F401

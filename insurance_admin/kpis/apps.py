from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpisConfig(AppConfig):
    name = "insurance_admin.kpis"
    label = "kpis"
    verbose_name = _("Performance indicators")

    def ready(self):
        # imports here, not at the top: the app registry is ready only now; each module
        # registers its KPIs on import
        from . import claims, deadlines, funds, settlements  # noqa: F401

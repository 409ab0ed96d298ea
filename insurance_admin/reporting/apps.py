from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "insurance_admin.reporting"
    label = "reporting"
    verbose_name = _("Periodic reports")

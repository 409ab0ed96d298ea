from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = _("Finance")

    def ready(self) -> None:
        from insurance_admin.core.deadlines import register_backfill

        from .deadlines import finance_deadlines_backfill

        register_backfill("finance", finance_deadlines_backfill)

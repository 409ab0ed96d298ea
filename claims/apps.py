from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = _("Claims")

    def ready(self) -> None:
        from insurance_admin.core.deadlines import register_backfill

        from .registration import claims_deadlines_backfill

        register_backfill("claims", claims_deadlines_backfill)

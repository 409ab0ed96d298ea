from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = _("Claims")

    def ready(self) -> None:
        # imports here, not at the top: the app registry is ready only now
        from insurance_admin.core.deadlines import register_backfill

        from .registration import claims_deadlines_backfill

        register_backfill("claims", claims_deadlines_backfill)

        from programs.person_sections import register_section

        from .person_picture import person_claims_section

        register_section(person_claims_section)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = _("Programs and insured persons")

    def ready(self):
        # imports here, not at the top: the app registry is ready only now
        from insurance_admin.core.middleware import register_busy_writer

        from .selectors import enrollment_lists_being_applied

        # the 503 page of a request that waited on the registry's locks names the lists
        register_busy_writer(enrollment_lists_being_applied)

        from .contract_terms import register_terms
        from .models import BenefitPlan, PremiumRate

        register_terms(PremiumRate)
        register_terms(BenefitPlan)

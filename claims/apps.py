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

        from .member_views import person_members_section

        register_section(person_members_section)

        from programs.contract_terms import register_terms

        from .models import (
            ClaimTerms,
            DocumentRequirement,
            EntitlementGroup,
            HospitalSettlementTerms,
        )

        register_terms(ClaimTerms)
        register_terms(DocumentRequirement, fk="program")  # the program's checklist, shared by its contracts
        register_terms(HospitalSettlementTerms)
        register_terms(EntitlementGroup, children=("kinds",))  # member services (seed 000)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "insurance_admin.assessments"
    label = "assessments"
    verbose_name = _("Assessments")

    def ready(self) -> None:
        from programs.contract_terms import register_terms

        from .models import AssessmentTemplate

        register_terms(AssessmentTemplate, children=("items", "grades"))

        from programs.seed import register_seed_loader

        from .seed import load_templates

        register_seed_loader(load_templates)  # `seed_contracts` puts the seed contracts' rows back

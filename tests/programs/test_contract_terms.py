"""The registry of a contract's terms models (programs.contract_terms), filled by each app's ready()."""
from programs.contract_terms import terms_models


def test_every_terms_model_is_registered_once_with_its_owner_field():
    specs = {spec.model._meta.label: spec for spec in terms_models()}
    assert {label: (spec.fk, spec.children) for label, spec in specs.items()} == {
        "programs.PremiumRate": ("contract", ()),
        "programs.BenefitPlan": ("contract", ()),
        "claims.ClaimTerms": ("contract", ()),
        "claims.DocumentRequirement": ("program", ()),
        "claims.HospitalSettlementTerms": ("contract", ()),
        "claims.EntitlementGroup": ("contract", ("kinds",)),
        "finance.FinanceTerms": ("contract", ("installment_rules",)),
        "complaints.ComplaintTerms": ("contract", ()),
        "staffing.StaffingCommitment": ("contract", ()),
        "reporting.ReportTerm": ("contract", ()),
        "assessments.AssessmentTemplate": ("contract", ("items", "grades")),
    }
    assert len(terms_models()) == len(specs)


def test_children_name_reverse_relations_of_the_parent():
    for spec in terms_models():
        for name in spec.children:
            assert spec.model._meta.get_field(name).one_to_many, (spec.model, name)

"""Reads for the engine: the benefit plans stored in the database, by contract code."""

from programs.models import BenefitPlan


def engine_plans(codes: list[str] | None = None) -> dict:
    """{contract code: engine Plan} for the stored benefit plans (optionally only `codes`)."""
    qs = BenefitPlan.objects.select_related("contract")
    if codes is not None:
        qs = qs.filter(contract__code__in=codes)
    return {bp.contract.code: bp.engine_plan() for bp in qs}

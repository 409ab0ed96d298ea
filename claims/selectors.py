"""Non-trivial reads: the stored benefit plans for the engine, the supervisors' deadline board."""

from django.db.models import Count, Q

from programs.models import BenefitPlan


def engine_plans(codes: list[str] | None = None) -> dict:
    """{contract code: engine Plan} for the stored benefit plans (optionally only `codes`)."""
    qs = BenefitPlan.objects.select_related("contract")
    if codes is not None:
        qs = qs.filter(contract__code__in=codes)
    return {bp.contract.code: bp.engine_plan() for bp in qs}


def deadline_overview(user, today):
    """Open manual claims per area: how many, due within three working days, overdue, and
    without a deadline yet (documents incomplete). For the supervisors' deadline board."""
    from insurance_admin.core.workdays import load_calendar

    from .models import Claim

    soon = load_calendar().add_working_days(today, 3).date
    open_claims = Claim.objects.for_user(user).exclude(status__in=["paid", "rejected", "withdrawn"])
    rows = (
        open_claims.values("area__code", "area__name")
        .annotate(
            open=Count("id"),
            waiting_documents=Count("id", filter=Q(due_date__isnull=True)),
            due_soon=Count("id", filter=Q(due_date__gte=today, due_date__lte=soon)),
            overdue=Count("id", filter=Q(due_date__lt=today)),
        )
        .order_by("area__code")
    )
    return list(rows), soon

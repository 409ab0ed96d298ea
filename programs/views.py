from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import render

from . import selectors
from .masking import can_see_full_identity
from .models import Contract, InsuredPerson


def _year(request, user) -> int:
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else selectors.default_year(user)


@login_required
def workbench(request):
    user = request.user
    year = _year(request, user)
    can_search = user.has_perm("programs.view_insuredperson")
    search = selectors.search_persons(user, request.GET.get("q", ""), year) if can_search else None
    contracts = Contract.objects.for_user(user).select_related("program", "insurer").filter(year=year)
    return render(
        request,
        "programs/workbench.html",
        {
            "search": search,
            "year": year,
            "years": selectors.visible_years(user) or [year],
            "contracts": contracts,
            "can_search": can_search,
            "full_identity": can_see_full_identity(user),
            "area_names": selectors.user_area_names(user),
        },
    )


@login_required
@permission_required("programs.view_insuredperson", raise_exception=True)
def person_detail(request, pk: int):
    user = request.user
    try:
        person = selectors.person_for_user(user, pk)
    except InsuredPerson.DoesNotExist:
        raise Http404 from None
    year = _year(request, user)
    history = []
    if user.has_perm("core.view_audit_log"):
        from insurance_admin.core.audit import person_history

        history = person_history(user, person)
    return render(
        request,
        "programs/person_detail.html",
        {
            "person": person,
            "year": year,
            "years": selectors.visible_years(user) or [year],
            "enrollments": person.visible_enrollments,
            "year_enrollment": selectors.enrollment_for_year(person.visible_enrollments, year),
            "full_identity": can_see_full_identity(user),
            "history": history,
        },
    )

"""The roster page: the joint office's staff of one contract on a date, in the user's areas,
and the shortfalls against the contract's commitments."""

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.utils import timezone

from insurance_admin.accounts.scoping import area_scope_ids
from insurance_admin.core.forms import DateInRangeField
from programs.models import Contract

from .models import StaffMember
from .selectors import commitment_for, member_flags, staffing_shortfalls


def _on(request):
    field = DateInRangeField(required=False)
    try:
        return field.clean(request.GET.get("on", "")[:40]) or timezone.localdate()
    except Exception:  # a malformed date: today, as on first opening
        return timezone.localdate()


@login_required
@permission_required("staffing.view_staffmember", raise_exception=True)
def roster(request):
    user = request.user
    contracts = list(Contract.objects.for_user(user).select_related("program__region").order_by("-year", "code"))
    chosen = next((c for c in contracts if str(c.pk) == request.GET.get("contract", "")), contracts[0] if contracts else None)
    on = _on(request)
    members, shortfalls, commitment, flagged = [], [], None, set()
    if chosen is not None:
        members = list(StaffMember.objects.for_user(user).filter(contract=chosen).active_on(on)
                       .select_related("area", "replaces").order_by("area__code", "team_role", "name"))
        scope = area_scope_ids(user)
        shortfalls = staffing_shortfalls(chosen, on, area_ids=scope)
        commitment = commitment_for(chosen)
        flagged = member_flags(chosen, members)
    return render(request, "staffing/roster.html", {
        "contracts": contracts, "chosen": chosen, "on": on, "members": members, "shortfalls": shortfalls,
        "commitment": commitment, "flagged": flagged,
    })

"""The audit-trail page. It reads the registry's and contracts' history, so it lives with them
(programs), not in core beneath them."""

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render

from .audit import TRAILS, audit_page


@login_required
@permission_required("core.view_audit_log", raise_exception=True)
def audit_log(request):
    trail = request.GET.get("trail", "person")
    if trail not in TRAILS:
        trail = "person"
    page_obj, entries = audit_page(request.user, trail, request.GET.get("page", 1))
    return render(
        request,
        "core/audit_log.html",
        {"trail": trail, "trails": [(k, v[0]) for k, v in TRAILS.items()], "page_obj": page_obj, "entries": entries},
    )

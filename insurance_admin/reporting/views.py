"""Report runs: the list (filtered by contract, report and period), the downloads and the
"generate again" button. Runs are looked up through `ReportRun.objects.for_user`, so another
area's run answers 404; the files are served here, never from a public media URL."""

from __future__ import annotations

import os
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from finance.forms import period_bounds
from programs.models import Contract

from . import services
from .models import Kind, ReportRun, period_label

VIEW = "reporting.view_reportrun"
REGENERATE = "reporting.regenerate_reportrun"
CONTENT_TYPES = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _runs(user):
    return ReportRun.objects.for_user(user).select_related("contract__program", "area", "generated_by")


def _period_filter(runs, kind: str, text: str):
    """A year (2025) selects every period starting in it; 2025-03 / 2025-Q1 / 2025-H1 the period
    of that form (of the chosen report, or of the report the form belongs to)."""
    text = text.strip().upper()
    if re.fullmatch(r"\d{4}", text) and kind != Kind.ANNUAL:
        return runs.filter(period_start__year=int(text))
    for candidate in [kind] if kind else list(Kind.values):
        try:
            start, end = period_bounds(candidate, text)
        except ValidationError:
            continue
        return runs.filter(kind=candidate, period_start__gte=start, period_end__lte=end)
    raise ValidationError(_("Write the period as 2025, 2025-03, 2025-Q1 or 2025-H1."))


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def run_list(request):
    user = request.user
    runs = _runs(user)
    contracts = list(Contract.objects.for_user(user).filter(pk__in=runs.values("contract_id")).order_by("-year", "code"))
    chosen = {"contract": request.GET.get("contract", ""), "kind": request.GET.get("kind", ""),
              "period": request.GET.get("period", "").strip(), "current": request.GET.get("current", "")}
    contract = next((c for c in contracts if str(c.pk) == chosen["contract"]), None)
    if chosen["contract"]:
        runs = runs.filter(contract=contract) if contract is not None else runs.none()
    if chosen["kind"]:
        runs = runs.filter(kind=chosen["kind"]) if chosen["kind"] in Kind.values else runs.none()
    if chosen["period"]:
        try:
            runs = _period_filter(runs, chosen["kind"], chosen["period"])
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            runs = runs.none()
    if chosen["current"]:
        runs = runs.filter(status=ReportRun.Status.CURRENT)
    page_obj = Paginator(runs, 50).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in chosen.items() if v})
    return render(request, "reporting/list.html", {
        "page_obj": page_obj, "runs": page_obj.object_list, "contracts": contracts, "kinds": Kind.choices,
        "chosen": chosen, "query": query, "can_regenerate": user.has_perm(REGENERATE),
    })


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def run_file(request, pk: int, fmt: str):
    run = get_object_or_404(_runs(request.user), pk=pk)
    field = run.pdf if fmt == "pdf" else run.xlsx
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("The file of this report is missing.")) from None
    return FileResponse(handle, as_attachment=True, filename=os.path.basename(field.name), content_type=CONTENT_TYPES[fmt])


@login_required
@permission_required(REGENERATE, raise_exception=True)
@require_POST
def run_regenerate(request, pk: int):
    run = get_object_or_404(_runs(request.user).select_related("contract__program__region"), pk=pk)
    try:
        new = services.regenerate(run, by=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("Version %(version)s of %(report)s %(period)s generated.") % {
            "version": new.version, "report": new.get_kind_display(), "period": new.period_display})
    query = urlencode({"contract": run.contract_id, "kind": run.kind, "period": period_label(run.kind, run.period_start)})
    return redirect(reverse("reporting:list") + "?" + query)

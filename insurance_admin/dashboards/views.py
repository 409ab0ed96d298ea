"""The supervisor's dashboard, its PDF (for the joint meeting, 联席会) and its XLSX: one
selection, one selector (`selectors.dashboard`), three renderings."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from finance.selectors import contracts_for
from insurance_admin.core.pdf import render_pdf

from . import charts, exports, links, selectors
from .forms import DashboardForm

PERMS = ("claims.view_claim", "finance.view_finance")


def _default_contract(contracts, today):
    current = [c for c in contracts if c.period_start <= today <= c.period_end]
    return (current or list(contracts) or [None])[0]


def selection_of(request) -> tuple[selectors.Selection | None, DashboardForm | None]:
    """The user's selection from the query string, every part checked against their scope;
    what is missing or invalid takes its default (the current contract, all the user's areas,
    the contract year)."""
    user = request.user
    contracts = contracts_for(user)
    today = timezone.localdate()
    by_pk = {str(c.pk): c for c in contracts}
    contract = by_pk.get(request.GET.get("contract", "")) or _default_contract(contracts, today)
    if contract is None:
        return None, None
    choices = selectors.area_choices(user, contract)
    data = request.GET.copy()
    data["contract"] = str(contract.pk)
    form = DashboardForm(data, contracts=contracts, areas=choices)
    form.is_valid()  # an invalid part keeps its error on the form and takes its default
    cleaned = form.cleaned_data
    area = cleaned.get("area")
    start, end = (None, None) if form.non_field_errors() else (cleaned.get("start"), cleaned.get("end"))
    start = start or contract.period_start
    end = end or contract.period_end
    return selectors.Selection(contract, area, selectors.areas_for_selection(user, contract, area, choices=choices), start,
                               end), form


@login_required
@permission_required(PERMS, raise_exception=True)
def dashboard(request):
    selection, form = selection_of(request)
    if selection is None:
        return render(request, "dashboards/dashboard.html", {"board": None})
    board = selectors.dashboard(selection)
    urls = links.Links(selection)
    return render(request, "dashboards/dashboard.html", {
        "board": board, "form": form, "charts": charts.chart_options(board), "links": urls,
        "query": links.selection_query(selection),
        "month_rows": [(m, urls.month("received", m.month), urls.month("approved", m.month), urls.month("paid", m.month))
                       for m in board.months],
        "payout_tables": payout_tables(board, urls),
    })


def payout_tables(board, urls) -> list:
    p = board.payouts
    return [
        (title, [(sl, urls.payout(dimension, sl.key) if sl.key else "") for sl in slices])
        for title, dimension, slices in (
            (_("by liability"), "liability", p.by_liability), (_("by hospital level"), "level", p.by_hospital_level),
            (_("by place"), "place", p.by_place), (_("by category"), "category", p.by_category),
            (_("top hospitals"), "hospital", p.top_hospitals),
        )
    ]


@login_required
@permission_required(PERMS, raise_exception=True)
def dashboard_pdf(request):
    selection, _form = selection_of(request)
    if selection is None:
        return HttpResponse(status=404)
    board = selectors.dashboard(selection)
    p = board.payouts
    with translation.override("zh-hans"):
        print_slices = [(_("by liability"), p.by_liability), (_("by hospital level"), p.by_hospital_level),
                        (_("by place"), p.by_place), (_("by category"), p.by_category)]
        print_charts = charts.print_charts(board)
    pdf = render_pdf("dashboards/print.html", {"board": board, "user": request.user, "print_slices": print_slices,
                                               "print_charts": print_charts})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="dashboard-{board.today:%Y%m%d}.pdf"'
    return response


@login_required
@permission_required(PERMS, raise_exception=True)
def dashboard_xlsx(request):
    selection, _form = selection_of(request)
    if selection is None:
        return HttpResponse(status=404)
    board = selectors.dashboard(selection)
    response = HttpResponse(exports.workbook(board),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="dashboard-{board.today:%Y%m%d}.xlsx"'
    return response

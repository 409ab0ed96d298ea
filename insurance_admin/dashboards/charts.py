"""ECharts options for the dashboard, built from the selector's figures (amounts as strings:
never a float in JSON). Every data item may carry a `link`: clicking it opens the claims it
counts (static/js/dashboard.js)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from insurance_admin.core.svg_charts import grouped_bars

from .links import Links

BLUE, GREEN, ORANGE, RED, GREY = "#1f4e8c", "#1b7f3b", "#e0a100", "#c0392b", "#8a93a3"


def _base(**extra) -> dict:
    return {"animation": False, "tooltip": {"trigger": "axis"}, "grid": {"left": 56, "right": 24, "top": 40, "bottom": 32},
            **extra}


def _pie(slices, dimension: str, links: Links, name: str) -> dict:
    return {
        "animation": False,
        "tooltip": {"trigger": "item", "formatter": "{b}<br>{c} 元（{d}%）"},
        "legend": {"bottom": 0, "type": "scroll"},
        "series": [{
            "name": name, "type": "pie", "radius": ["35%", "62%"], "center": ["50%", "45%"],
            "label": {"formatter": "{b}\n{d}%"},
            "data": [{"name": s.label, "value": str(s.amount), **({"link": links.payout(dimension, s.key)} if s.key else {})}
                     for s in slices if s.amount],
        }],
    }


def chart_options(board) -> dict:
    links = Links(board.selection)
    months = board.months
    labels = [m.month.strftime("%Y-%m") for m in months]

    def bars(kind, color, attr):
        return {"name": {"received": _("received claims"), "approved": _("approved claims"), "paid": _("paid claims")}[kind], "type": "bar",
                "itemStyle": {"color": color},
                "data": [{"value": getattr(m, attr), "link": links.month(kind, m.month)} for m in months]}

    monthly = _base(legend={"top": 0}, xAxis={"type": "category", "data": labels},
                    yAxis={"type": "value", "minInterval": 1, "name": _("claims")},
                    series=[bars("received", GREY, "received"), bars("approved", BLUE, "approved"), bars("paid", GREEN, "paid")])

    service = board.service
    limit_days = sorted(service.histogram)
    turnaround = _base(
        grid={"left": 56, "right": 24, "top": 40, "bottom": 48},
        xAxis={"type": "category", "name": _("working days of turnaround"), "nameLocation": "middle", "nameGap": 28,
               "data": [str(d) for d in limit_days]},
        yAxis={"type": "value", "minInterval": 1, "name": _("claims")},
        series=[{"name": _("claims paid"), "type": "bar", "itemStyle": {"color": BLUE},
                 "data": [service.histogram[d] for d in limit_days]}],
    )

    f = board.funds
    fund_rows = [
        (_("fund usage rate"), f.usage_rate, f.commitment, _("commitment")),
        (_("loss ratio"), f.loss_ratio, None, ""),
        (_("surplus rate"), f.surplus_rate, f.retention_limit if f.clearing == "cycle" else None, _("retention band")),
        (_("rolling surplus / last year's premium"), f.rolling_ratio, f.rolling_threshold if f.rolling_ratio is not None else None,
         _("warning line")),
    ]
    fund_rows = [r for r in fund_rows if r[1] is not None]
    funds = _base(
        legend={"top": 0},
        grid={"left": 190, "right": 40, "top": 40, "bottom": 24},
        yAxis={"type": "category", "data": [str(r[0]) for r in fund_rows], "inverse": True},
        xAxis={"type": "value", "name": "%"},
        series=[
            {"name": _("actual"), "type": "bar", "itemStyle": {"color": BLUE}, "label": {"show": True, "position": "right", "formatter": "{c}%"},
             "data": [{"value": str(r[1]), "link": links.finance} for r in fund_rows]},
            {"name": _("line set by the contract"), "type": "scatter", "symbol": "diamond", "symbolSize": 14,
             "itemStyle": {"color": RED}, "data": [str(r[2]) if r[2] is not None else None for r in fund_rows]},
        ],
    )

    hospitals = board.payouts.top_hospitals
    top = _base(
        tooltip={"trigger": "axis"}, grid={"left": 200, "right": 40, "top": 16, "bottom": 24},
        yAxis={"type": "category", "inverse": True, "data": [h.label for h in hospitals]},
        xAxis={"type": "value", "name": "元"},
        series=[{"name": _("amount approved"), "type": "bar", "itemStyle": {"color": BLUE},
                 "data": [{"value": str(h.amount), "link": links.payout("hospital", h.key)} for h in hospitals]}],
    )

    overdue = _base(
        grid={"left": 160, "right": 40, "top": 16, "bottom": 24},
        yAxis={"type": "category", "inverse": True, "data": [k.label for k in board.overdue]},
        xAxis={"type": "value", "minInterval": 1},
        series=[{"name": _("overdue"), "type": "bar", "itemStyle": {"color": RED},
                 "data": [{"value": k.count, **({"link": links.overdue_claims} if k.kind == "claim_service" else {})}
                          for k in board.overdue]}],
    )

    p = board.payouts
    return {
        "monthly": monthly,
        "turnaround": turnaround,
        "funds": funds if fund_rows else None,
        "liability": _pie(p.by_liability, "liability", links, _("by liability")),
        "level": _pie(p.by_hospital_level, "level", links, _("by hospital level")),
        "place": _pie(p.by_place, "place", links, _("by place")),
        "category": _pie(p.by_category, "category", links, _("by category")),
        "hospitals": top,
        "overdue": overdue,
    }


def print_charts(board) -> dict[str, str]:
    """The PDF's charts as inline SVG (the page's ECharts need a browser): claims by month
    (received, approved, paid) and the period's payouts by liability."""
    months = board.months
    labels = [m.month.strftime("%Y-%m") for m in months]
    liabilities = [s for s in board.payouts.by_liability if s.amount]
    return {
        "monthly": grouped_bars(labels, [
            (_("received claims"), BLUE, [m.received for m in months]),
            (_("approved claims"), GREEN, [m.approved for m in months]),
            (_("paid claims"), ORANGE, [m.paid for m in months]),
        ], width=900, height=220),
        "liability": grouped_bars([s.label for s in liabilities], [
            (_("amount"), BLUE, [s.amount for s in liabilities]),
        ], width=900, height=200) if liabilities else "",
    }

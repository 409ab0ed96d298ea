"""A finished simulation run as people read it (测算, issue 22 item 3): the actual year and
the scenario side by side (payable per liability, area, category, hospital level; persons at a
cap; premium, fund usage, loss ratio, surplus rate), both payout histograms, the suggested
per-capita premium with its formula in words and figures — for the page, the PDF and the XLSX.

Codes never reach the reader: categories and hospital levels are shown with the words of
`claims.presentation`, headcount categories with `HEADCOUNT_CATEGORIES`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from claims.presentation import CODE_LABELS, HOSP_LEVEL_LABELS
from insurance_admin.core.exports import append
from insurance_admin.core.money import fmt_money, percent
from insurance_admin.core.svg_charts import grouped_bars

from .models import HEADCOUNT_CATEGORIES, SimulationRun, SimulationTarget

ACTUAL_COLOUR, SCENARIO_COLOUR = "#8c9bab", "#2f6fb0"


def _d(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _money(value) -> str:
    return "—" if value is None else fmt_money(Decimal(value))


def _rate(value) -> str:
    return "—" if value is None else percent(Decimal(value))


def _count(value) -> str:
    return "—" if value is None else f"{int(value):,}"


_FORMAT = {"money": _money, "rate": _rate, "count": _count}


@dataclass
class Line:
    label: str
    actual: Decimal | int | None
    scenario: Decimal | int | None
    kind: str = "money"  # money | rate | count

    @property
    def difference(self):
        if self.actual is None or self.scenario is None:
            return None
        return self.scenario - self.actual

    def cells(self) -> tuple[str, str, str, str]:
        show = _FORMAT[self.kind]
        diff = self.difference
        sign = "+" if diff is not None and diff > 0 else ""
        return self.label, show(self.actual), show(self.scenario), "—" if diff is None else sign + show(diff)


@dataclass
class Table:
    title: str
    lines: list[Line]
    key: str = ""


@dataclass
class Comparison:
    run: SimulationRun
    records: int
    not_covered: int
    summary: Table
    tables: list[Table]
    histogram: Table
    premium_lines: list[tuple[str, str, str]]  # (category, actual per capita, scenario per capita)
    target_display: str
    suggested: Decimal | None
    formula: list[str]
    changes: list[list[str]]
    charts: dict = field(default_factory=dict)


def _labelled(mapping_a: dict, mapping_s: dict, label) -> list[Line]:
    keys = sorted(set(mapping_a) | set(mapping_s), key=lambda k: (k == "—", label(k)))
    return [Line(label(k), _d(mapping_a.get(k, "0")), _d(mapping_s.get(k, "0"))) for k in keys]


def _category(code: str) -> str:
    return _("not recorded") if code == "—" else CODE_LABELS.get(code, code)


def _hosp_lv(code: str) -> str:
    return _("not recorded") if code == "—" else HOSP_LEVEL_LABELS.get(code, code)


def comparison(run: SimulationRun) -> Comparison:
    data = run.result or {}
    a, s = data.get("actual", {}), data.get("scenario", {})
    usage_base = Decimal(1) - _d(data.get("operating_cost_rate") or "0")

    def usage(side):
        premium, payable = _d(side.get("premium")), _d(side.get("payable"))
        if not premium or not usage_base:
            return None
        return (payable / (premium * usage_base)).quantize(Decimal("0.0001"), ROUND_HALF_UP)

    summary = Table(_("Overview"), [
        Line(_("Total payable"), _d(a.get("payable")), _d(s.get("payable"))),
        Line(_("Persons paid"), a.get("persons_paid"), s.get("persons_paid"), "count"),
        Line(_("Persons reaching a cap"), a.get("persons_at_cap"), s.get("persons_at_cap"), "count"),
        Line(_("Premium"), _d(a.get("premium")), _d(s.get("premium"))),
        Line(_("Fund usage (payable ÷ premium net of operating cost)"), usage(a), usage(s), "rate"),
        Line(_("Loss ratio (payable ÷ premium)"), _d(a.get("loss_ratio")), _d(s.get("loss_ratio")), "rate"),
        Line(_("Surplus rate ((premium − payable) ÷ premium)"), _d(a.get("surplus_rate")), _d(s.get("surplus_rate")), "rate"),
    ], key="summary")
    tables = [
        Table(_("Payable per liability"), _labelled(a.get("by_liability", {}), s.get("by_liability", {}), str), "liability"),
        Table(_("Payable per area"), _labelled(a.get("by_area", {}), s.get("by_area", {}), str), "area"),
        Table(_("Payable per category of insured person"),
              _labelled(a.get("by_category", {}), s.get("by_category", {}), _category), "category"),
        Table(_("Payable per hospital level"), _labelled(a.get("by_hosp_lv", {}), s.get("by_hosp_lv", {}), _hosp_lv), "hosp_lv"),
    ]
    bins_a = dict((label, n) for label, n in a.get("histogram", []))
    bins_s = dict((label, n) for label, n in s.get("histogram", []))
    labels = [label for label, _n in a.get("histogram", [])] or [label for label, _n in s.get("histogram", [])]
    histogram = Table(_("Persons by payout in the year (yuan)"),
                      [Line(label, bins_a.get(label, 0), bins_s.get(label, 0), "count") for label in labels], "histogram")

    own_rates = data.get("own_per_capita", {})
    scenario_rates = run.per_capita or own_rates
    premium_lines = [(str(HEADCOUNT_CATEGORIES.get(c, c)), _money(own_rates.get(c)), _money(scenario_rates.get(c)))
                     for c in sorted(set(own_rates) | set(scenario_rates))]
    suggested = _d(data.get("suggested_per_capita"))
    formula = _formula_lines(run, s, data, suggested)
    comp = Comparison(run, data.get("records", 0), data.get("not_covered", 0), summary, tables, histogram, premium_lines,
                      run.target_display, suggested, formula, run.changes)
    comp.charts = {"liability": _chart(tables[0]), "histogram": _chart(histogram)}
    return comp


def _formula_lines(run, side: dict, data: dict, suggested: Decimal | None) -> list[str]:
    payable, paying = _d(side.get("payable")), data.get("paying_headcount")
    target = Decimal(run.target)
    if suggested is None or payable is None or not paying:
        return [_("No suggestion: the contract has no premium schedule with headcounts to spread the premium over.")]
    if run.target_kind == SimulationTarget.SURPLUS_RATE:
        words = _("Suggested per-capita premium = scenario payable ÷ (1 − target surplus rate) ÷ paying headcount, "
                  "rounded up to the fen.")
        figures = f"{fmt_money(payable)} ÷ (1 − {percent(target)}) ÷ {paying:,} = {fmt_money(suggested)}"
    else:
        words = _("Suggested per-capita premium = scenario payable ÷ target loss ratio ÷ paying headcount, "
                  "rounded up to the fen.")
        figures = f"{fmt_money(payable)} ÷ {percent(target)} ÷ {paying:,} = {fmt_money(suggested)}"
    return [words, figures, _("The paying headcount counts the categories whose per-capita premium is above zero; "
                              "at this premium the target is reached, one fen less does not reach it.")]


def _chart(table: Table) -> dict:
    """ECharts options: grouped bars, actual vs scenario."""
    money = all(line.kind == "money" for line in table.lines)

    def value(x):
        return None if x is None else (float(x) if money else int(x))

    return {
        "money": money,
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [_("Actual year"), _("Scenario")]},
        "grid": {"left": 90, "right": 20, "top": 40, "bottom": 60, "containLabel": True},
        "xAxis": {"type": "category", "data": [line.label for line in table.lines], "axisLabel": {"interval": 0, "rotate": 20}},
        "yAxis": {"type": "value", "name": _("yuan") if money else _("persons")},
        "series": [
            {"name": _("Actual year"), "type": "bar", "data": [value(line.actual) for line in table.lines],
             "itemStyle": {"color": ACTUAL_COLOUR}},
            {"name": _("Scenario"), "type": "bar", "data": [value(line.scenario) for line in table.lines],
             "itemStyle": {"color": SCENARIO_COLOUR}},
        ],
    }


# --- SVG for the PDF --------------------------------------------------------------------------


def bar_svg(table: Table, *, width: int = 640, height: int = 240) -> str:
    """Grouped bars (actual, scenario) per line as inline SVG: WeasyPrint draws it, no script."""
    labels = [line.label for line in table.lines]
    return grouped_bars(labels, [(_("Actual year"), ACTUAL_COLOUR, [line.actual for line in table.lines]),
                                 (_("Scenario"), SCENARIO_COLOUR, [line.scenario for line in table.lines])],
                        width=width, height=height)


# --- exports ---------------------------------------------------------------------------------


def title_of(run: SimulationRun) -> str:
    return _("Renewal simulation of %(contract)s") % {"contract": run.contract.name}


def filename_of(run: SimulationRun) -> str:
    return f"simulation-{run.contract.year}-{run.pk}"


def comparison_pdf(run: SimulationRun) -> bytes:
    from insurance_admin.core.pdf import render_pdf

    comp = comparison(run)
    charts = [(comp.tables[0].title, bar_svg(comp.tables[0])), (comp.histogram.title, bar_svg(comp.histogram))]
    tables = [comp.summary, *comp.tables, comp.histogram]
    return render_pdf("finance/print/simulation.html",
                      {"comp": comp, "run": run, "title": title_of(run), "charts": charts, "tables": tables})


def comparison_xlsx(run: SimulationRun) -> bytes:
    """One sheet of tables (amounts as numeric cells), a native bar chart per liability and one
    of the histogram; every text cell goes through `core.exports.append`."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font, PatternFill

    comp = comparison(run)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Simulation")[:31]
    bold = Font(bold=True)
    append(ws, [title_of(run)])
    ws["A1"].font = Font(bold=True, size=14)
    append(ws, [_("Records"), comp.records])
    append(ws, [_("Target"), comp.target_display])
    append(ws, [_("Suggested per-capita premium"), comp.suggested])
    if comp.suggested is not None:
        ws.cell(ws.max_row, 2).number_format = "#,##0.00"
    for line in comp.formula:
        append(ws, [line])
    anchors = {}
    for table in [comp.summary, *comp.tables, comp.histogram]:
        ws.append([])
        append(ws, [table.title])
        ws.cell(ws.max_row, 1).font = bold
        append(ws, [_("Figure"), _("Actual year"), _("Scenario"), _("Difference")])
        for cell in ws[ws.max_row]:
            cell.font = bold
            cell.fill = PatternFill("solid", fgColor="EEEEEE")
        first = ws.max_row + 1
        for line in table.lines:
            append(ws, [line.label, line.actual, line.scenario, line.difference])
            fmt = {"money": "#,##0.00", "rate": "0.00%", "count": "#,##0"}[line.kind]
            for cell in ws[ws.max_row][1:]:
                cell.number_format = fmt
        anchors[table.key] = (first, ws.max_row)
    if comp.changes:
        ws.append([])
        append(ws, [_("Figures changed in the scenario")])
        ws.cell(ws.max_row, 1).font = bold
        for label, before, after in comp.changes:
            append(ws, [label, before, after])
    ws.column_dimensions["A"].width = 44
    for col in "BCD":
        ws.column_dimensions[col].width = 20
    position = 2
    for key, title in (("liability", comp.tables[0].title), ("histogram", comp.histogram.title)):
        first, last = anchors[key]
        if last < first:
            continue
        chart = BarChart()
        chart.type = "col"
        chart.title = title
        chart.height, chart.width = 8, 16
        chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=first - 1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
        ws.add_chart(chart, f"F{position}")
        position += 18
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

"""The dashboard as an XLSX workbook: the same figures as the page, one sheet per panel, every
cell through the formula-safe writer (`insurance_admin.core.exports`). Amounts stay numbers."""

from __future__ import annotations

import io

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook

from insurance_admin.core.exports import append


def _sheet(book, title, header):
    ws = book.create_sheet(title)
    append(ws, header)
    return ws


def workbook(board, *, language: str = "zh-hans") -> bytes:
    with translation.override(language):
        return _workbook(board)


def _workbook(board) -> bytes:
    s = board.selection
    book = Workbook()
    ws = book.active
    ws.title = _("Overview")
    service, f, totals = board.service, board.funds, board.totals
    for row in (
        (_("Supervision dashboard"), ""),
        (_("contract"), s.contract.name),
        (_("area"), s.area_name),
        (_("period"), f"{s.start:%Y-%m-%d} – {s.end:%Y-%m-%d}"),
        (_("as of"), board.generated_at.strftime("%Y-%m-%d %H:%M")),
        (_("claims received"), totals["received"]),
        (_("claims approved"), totals["approved"]),
        (_("amount approved"), totals["approved_amount"]),
        (_("claims paid"), totals["paid"]),
        (_("amount paid"), totals["paid_amount"]),
        (_("paid within the time limit (%)"), service.on_time_rate),
        (_("paid late"), service.late),
        (_("median turnaround (working days)"), service.median_days),
        (_("90th-percentile turnaround (working days)"), service.p90_days),
        (_("overdue obligations now"), board.overdue_total),
        (_("fund usage rate (%)"), f.usage_rate),
        (_("committed usage (%)"), f.commitment),
        (_("loss ratio (%)"), f.loss_ratio),
        (_("surplus rate (%)"), f.surplus_rate),
        (_("retention band (%)"), f.retention_limit),
        (_("rolling surplus (yuan)"), f.rolling_surplus),
        (_("rolling surplus warning line (yuan)"), f.rolling_line),
        (_("instant settlements checked"), board.differences.checked),
        (_("instant settlements differing"), board.differences.differing),
        (_("difference engine − platform (yuan)"), board.differences.difference),
    ):
        append(ws, row)

    ws = _sheet(book, _("By month"), [_("month"), _("received claims"), _("approved claims"), _("amount approved"), _("paid claims"), _("amount paid")])
    for m in board.months:
        append(ws, [m.month.strftime("%Y-%m"), m.received, m.approved, m.approved_amount, m.paid, m.paid_amount])

    ws = _sheet(book, _("Turnaround"), [_("working days of turnaround"), _("claims paid")])
    for days in sorted(service.histogram):
        append(ws, [days, service.histogram[days]])

    ws = _sheet(book, _("Overdue"), [_("kind"), _("how many"), _("oldest due date")])
    for k in board.overdue:
        append(ws, [k.label, k.count, k.oldest_due])

    ws = _sheet(book, _("Payouts"), [_("breakdown"), _("item"), _("claims"), _("amount")])
    p = board.payouts
    for title, slices in ((_("by liability"), p.by_liability), (_("by hospital level"), p.by_hospital_level),
                          (_("by place"), p.by_place), (_("by category"), p.by_category),
                          (_("top hospitals"), p.top_hospitals)):
        for sl in slices:
            append(ws, [title, sl.label, sl.claims, sl.amount])

    ws = _sheet(book, _("Platform vs engine"), [_("hospital"), _("settlements checked"), _("differing"), _("difference"), _("absolute difference")])
    for h in board.differences.by_hospital:
        append(ws, [h.name, h.checked, h.differing, h.difference, h.absolute])

    if board.other_kpis:
        ws = _sheet(book, _("Other indicators"), [_("indicator"), _("value"), _("unit")])
        for k in board.other_kpis:
            append(ws, [k.label, k.value, k.unit])

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

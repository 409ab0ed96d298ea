"""Rendering of finance statements and reports (`reports.Document`) as PDF and XLSX."""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from insurance_admin.core.exports import append
from insurance_admin.core.pdf import render_pdf

from .reports import Document

XLSX_MONEY = "#,##0.00"


def document_pdf(document: Document) -> bytes:
    return render_pdf("finance/print/document.html", {"doc": document})


def document_xlsx(document: Document) -> bytes:
    """One sheet: title, meta, each section as a table, then the formulas. Amounts are numeric
    cells (Decimal, 2 dp) so the authority's staff can add them up in Excel. Every row goes
    through `core.exports.append`: text that looks like a formula (a hospital name, a memo)
    is written as text."""
    # heavy: openpyxl loaded only when a workbook is written
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = document.title[:31]  # a sheet name is never evaluated
    bold = Font(bold=True)
    append(ws, [document.title])
    ws["A1"].font = Font(bold=True, size=14)
    for label, value in document.meta:
        append(ws, [label, value])
    widths: dict[int, int] = {}
    for section in document.sections:
        ws.append([])
        append(ws, [section.title])
        ws.cell(ws.max_row, 1).font = bold
        append(ws, section.headers)
        for cell in ws[ws.max_row]:
            cell.font = bold
            cell.fill = PatternFill("solid", fgColor="EEEEEE")
        for row in section.rows:
            append(ws, row)
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, Decimal):
                    cell.number_format = XLSX_MONEY
        for note in section.notes:
            append(ws, [note])
        for i, header in enumerate(section.headers, start=1):
            widths[i] = max(widths.get(i, 10), min(40, 2 * len(str(header)) + 2))
    if document.formulas:
        ws.append([])
        append(ws, [_formula_title()])
        ws.cell(ws.max_row, 1).font = bold
        for line in document.formulas:
            append(ws, [line])
            ws.cell(ws.max_row, 1).alignment = Alignment(wrap_text=False)
    for i, width in widths.items():
        ws.column_dimensions[chr(64 + i)].width = max(width, 16)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _formula_title() -> str:
    with translation.override("zh-hans"):
        return _("Formulas")

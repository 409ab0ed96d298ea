"""The one rule for every spreadsheet the product writes (CSV and XLSX): a text cell that a
spreadsheet program would read as a formula is written with a leading apostrophe (OWASP "CSV
injection"). A hospital name `=HYPERLINK(...)` typed at the window, in a hospital file or in
an enrollment list must come out as the text it was, never as a live formula.

Only text is touched: numbers (Decimal amounts, negative ones included), dates and None are
written as they are, so amounts stay numeric cells that add up in Excel. The rule is
idempotent (a neutralised cell starts with `'`, which is harmless), so a value that passes
through two writers is not quoted twice.

Writers: `writer()` wraps `csv.writer`, `append()` appends a row to an openpyxl sheet,
`neutralise_dataset()` / `NeutralisedExportMixin` cover tablib and django-import-export."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

import tablib

# =, +, - and @ start a formula; tab and carriage return are stripped by some programs,
# which then read what follows them as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """`value` as a spreadsheet cell that cannot run: text starting with a formula character
    gets a leading `'`; everything else (numbers, dates, None) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    return [neutralise(value) for value in row]


class _NeutralisingWriter:
    """`csv.writer` whose rows go through `neutralise` first."""

    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(neutralise_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]):
        for row in rows:
            self._writer.writerow(neutralise_row(row))

    @property
    def dialect(self):
        return self._writer.dialect


def writer(stream, *args, **kwargs) -> _NeutralisingWriter:
    """`csv.writer(stream, ...)` that neutralises every cell it writes."""
    return _NeutralisingWriter(csv.writer(stream, *args, **kwargs))


def append(ws, row: Iterable[Any]) -> None:
    """`ws.append(row)` on an openpyxl worksheet, every cell neutralised (openpyxl itself
    stores any string starting with `=` as a formula)."""
    ws.append(neutralise_row(row))


def neutralise_dataset(dataset):
    """A copy of a tablib Dataset (headers, title and rows) with every cell neutralised; its
    `.csv` and `.xlsx` are then safe to hand out."""
    safe = tablib.Dataset(headers=neutralise_row(dataset.headers) if dataset.headers else None,
                          title=dataset.title)
    for row in dataset:
        safe.append(neutralise_row(row))
    return safe


class NeutralisedExportMixin:
    """For django-import-export resources: `export()` returns a neutralised Dataset, whatever
    format (CSV, XLSX, ...) it is then written in — the admin's export action included."""

    def export(self, *args, **kwargs):
        return neutralise_dataset(super().export(*args, **kwargs))

"""The rejected-rows file of an import: UTF-8 CSV with a BOM (opens in Excel), written and read
back through `core.exports`, so a cell starting with = + - @ (or tab, carriage return) is
neutralised on the way in and again on the way out (old stored files included). A reader who
may not see full identities gets the identity columns masked — in their columns and wherever
the free-text columns (the reason) repeat them. Streamed both ways: a list rejected whole
(millions of rows) is never held in memory."""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping

from django.core.files import File

from .. import exports

_CHUNK = 1 << 16
BOM = "\ufeff"

Mask = Callable[[str], str]


def csv_bytes(header: Iterable, rows: Iterable[Iterable]) -> bytes:
    """The rejected rows as the stored file's bytes (header first)."""
    out = io.StringIO()
    writer = exports.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


def masked_row(header: list[str], row: list[str], masks: Mapping[str, Mask], *, free_text: Callable[[int, str], bool],
               more_secrets: Callable[[dict], list[tuple[str, str]]] | None = None) -> list[str]:
    """`row` with its `masks` columns masked, and every occurrence of their values (and of
    `more_secrets`, pairs of (text, masked)) masked in the columns `free_text(i, name)` names."""
    cells = dict(zip(header, row, strict=False))
    secrets = [(value, mask(value)) for column, mask in masks.items() if len(value := cells.get(column, "")) > 1]
    if more_secrets is not None:
        secrets += more_secrets(cells)
    secrets.sort(key=lambda s: len(s[0]), reverse=True)  # a long secret before the short one inside it
    out = list(row)
    for i, name in enumerate(header[:len(row)]):
        if name in masks:
            out[i] = masks[name](row[i])
        elif row[i] and free_text(i, name):
            value = row[i]
            for secret, masked in secrets:
                if secret in value:
                    value = value.replace(secret, masked)
            out[i] = value
    return out


def stream(fh, transform: Callable[[list[str], list[str]], list[str]] | None = None) -> Iterator[bytes]:
    """A stored rejected-rows file (binary `fh`) as chunks of bytes, every cell neutralised and
    each data row passed through `transform(header, row)` when given."""
    out = io.StringIO()
    writer = exports.writer(out)
    yield BOM.encode()
    header = None
    for row in csv.reader(codecs.getreader("utf-8-sig")(fh)):
        if header is None:
            header = row
            writer.writerow(row)
        else:
            writer.writerow(row if transform is None else transform(header, row))
        if out.tell() > _CHUNK:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


class Writer:
    """A rejected-rows file written row by row into a temporary file (UTF-8 with a BOM, every
    cell neutralised), for an import that finds its rejected rows while it streams the upload:
    nothing is held in memory. `rows` counts the data rows; `file()` is the finished file,
    ready for a FileField's `save()`."""

    def __init__(self) -> None:
        self._fh = tempfile.TemporaryFile()
        self._text = io.TextIOWrapper(self._fh, encoding="utf-8", newline="")
        self._text.write(BOM)
        self._writer = exports.writer(self._text)
        self.rows = 0

    def header(self, header: Iterable) -> None:
        self._writer.writerow(header)

    def row(self, row: Iterable) -> None:
        self._writer.writerow(row)
        self.rows += 1

    def file(self):
        self._text.flush()
        self._fh.seek(0)
        return File(self._fh)

    def close(self) -> None:
        self._text.close()

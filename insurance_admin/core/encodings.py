"""The one rule for decoding uploaded text files (shared/STACK.md): `utf-8-sig` if the whole
file decodes strictly, else `gb18030` (a superset of GBK) — never the other order, because
gb18030 decodes UTF-8 bytes into mojibake without an error. Used by every import (enrollment
lists, hospital files) on both paths: streamed files and django-import-export's admin."""

from __future__ import annotations

import codecs

from import_export.formats import base_formats

ENCODINGS = ("utf-8-sig", "gb18030")
_BLOCK = 1 << 20


def _decodes(path: str, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with open(path, "rb") as fh:
            while block := fh.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_file_encoding(path: str, *, verify_fallback: bool = True) -> str | None:
    """The encoding to read `path` with, or None when it is neither. A GBK file fails as UTF-8
    at its first Chinese character, so the first pass is cheap for it; `verify_fallback=False`
    leaves the gb18030 check to the reader (which then reports the bad row itself)."""
    if _decodes(path, ENCODINGS[0]):
        return ENCODINGS[0]
    if not verify_fallback or _decodes(path, ENCODINGS[1]):
        return ENCODINGS[1]
    return None


def decode_bytes(data: bytes) -> str:
    """The same rule for a file already in memory; UnicodeDecodeError when neither fits."""
    try:
        return data.decode(ENCODINGS[0])
    except UnicodeDecodeError:
        return data.decode(ENCODINGS[1])


class EncodingFallbackCSV(base_formats.CSV):
    """django-import-export's CSV read as bytes and decoded by the rule above (its own admin
    default is `utf-8-sig` only). `undecodable_message`: the error a user sees otherwise."""

    undecodable_message: str | None = None

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            try:
                in_stream = decode_bytes(in_stream)
            except UnicodeDecodeError:
                if self.undecodable_message is None:
                    raise
                raise ValueError(str(self.undecodable_message)) from None
        return super().create_dataset(in_stream, **kwargs)

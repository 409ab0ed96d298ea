"""PDF rendering with WeasyPrint: template + context -> bytes (the first of pretix's three
layers; storing a document is a service's job, scheduling it a task's).

Templates extend `print/base.html`, which sets `lang="zh-CN"` (without it the Japanese glyph
variants of the CJK font get embedded) and the Noto Sans CJK font stack (shared/STACK.md).
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation


def render_pdf(template_name: str, context: dict, *, language: str = "zh-hans") -> bytes:
    """Render one document; batch many pages into one call (one document is far cheaper than
    many: ≈90 ms per document on top of ≈150 ms per page, measured in shared/STACK.md)."""
    from weasyprint import HTML  # imported lazily: loading pango costs ~0.3 s

    with translation.override(language):
        html = render_to_string(template_name, context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()

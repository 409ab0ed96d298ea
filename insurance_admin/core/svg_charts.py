"""Bar charts as inline SVG for the PDFs (WeasyPrint draws SVG; it runs no script, so the
pages' ECharts cannot be printed). Figures are drawn, not computed: bar heights are the only
floats, the labels and axis figures are the values as given."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from html import escape

Number = Decimal | int | None


def grouped_bars(labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[Number]]], *,
                 width: int = 640, height: int = 240) -> str:
    """Grouped bars: one group per label, one bar per series (name, colour, values), a legend
    under the axis. A value of None draws no bar."""
    left, right, top, bottom = 70, 10, 24, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v or 0) for _name, _colour, vs in series for v in vs]
    counts = all(isinstance(v, int) for _name, _colour, vs in series for v in vs if v is not None)
    peak = 4 * _step(max(values + [0.0]) / 4, counts)  # four gridlines at round figures
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-size="9" font-family="Noto Sans CJK SC, sans-serif">']
    for i in range(5):  # gridlines and axis figures
        y = top + plot_h - plot_h * i / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd" stroke-width="0.5"/>')
        out.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#555">{peak * i / 4:,.0f}</text>')
    group = plot_w / max(len(labels), 1)
    bar = group * 0.7 / max(len(series), 1)
    for i, label in enumerate(labels):
        x0 = left + group * i + group * 0.15
        for j, (_name, colour, vs) in enumerate(series):
            h = plot_h * float(vs[i] or 0) / peak
            out.append(f'<rect x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                       f'fill="{colour}"/>')
        room = max(int(group / 4.3), 4)  # characters that fit under the group at 7.5 pt
        text = escape(label if len(label) <= room else label[:room - 1] + "…")
        out.append(f'<text x="{x0 + group * 0.35:.1f}" y="{top + plot_h + 14}" text-anchor="middle" fill="#333" '
                   f'font-size="7.5">{text}</text>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#333" '
               f'stroke-width="0.8"/>')
    legend_y = height - 12
    for k, (name, colour, _vs) in enumerate(series):
        x = left + k * 110
        out.append(f'<rect x="{x}" y="{legend_y - 8}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="{legend_y}" fill="#333">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def _step(raw: float, counts: bool) -> float:
    """The gridline step: the smallest round figure (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k)
    at least `raw`; for counts a whole number, at least 1."""
    if raw <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = m * magnitude
        if step >= raw and (not counts or (step >= 1 and step == int(step))):
            return step
    return 10 * magnitude

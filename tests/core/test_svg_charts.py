"""The PDFs' SVG bar charts: round gridlines (whole numbers for counts), bars in proportion,
labels escaped, None drawn as no bar."""

import re
from decimal import Decimal

from insurance_admin.core.svg_charts import grouped_bars


def _axis(svg: str) -> list[str]:
    return re.findall(r'text-anchor="end" fill="#555">([^<]*)</text>', svg)


def _heights(svg: str, colour: str) -> list[float]:
    """The bars' heights of one series (the legend's square, drawn last, left out)."""
    return [float(h) for h in re.findall(rf'height="([\d.]+)" fill="{colour}"', svg)][:-1]


def test_counts_get_whole_gridlines_and_bars_in_proportion():
    svg = grouped_bars(["2025-01", "2025-02", "2025-03"], [("收到申请", "#111111", [3, 1, 0]),
                                                            ("已支付", "#222222", [2, None, 1])])
    assert _axis(svg) == ["0", "1", "2", "3", "4"]
    plot = 240 - 24 - 56
    assert _heights(svg, "#111111") == [plot * 3 / 4, plot / 4, 0.0]
    assert _heights(svg, "#222222") == [plot / 2, 0.0, plot / 4]
    assert re.findall(r">(\d{4}-\d{2})</text>", svg) == ["2025-01", "2025-02", "2025-03"]
    assert ">收到申请</text>" in svg and ">已支付</text>" in svg


def test_amounts_get_round_gridlines_and_labels_are_escaped():
    svg = grouped_bars(["<b>大病保险</b>", "意外"], [("金额", "#333333", [Decimal("10578.00"), Decimal("45.25")])])
    assert _axis(svg) == ["0", "3,000", "6,000", "9,000", "12,000"]
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert grouped_bars([], [("金额", "#333333", [])]).startswith("<svg")

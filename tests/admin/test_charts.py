"""Dashboard chart axes: counts on whole numbers, hours may be fractional."""

from __future__ import annotations

import re

import pytest

from campus.admin import charts

MONTHS = ["2026-10", "2026-11", "2026-12"]


def axis_labels(svg: str) -> list[str]:
    """The y-axis labels (right-aligned axis text), bottom to top."""
    return re.findall(r'<text class="chart-axis"[^>]*text-anchor="end">([^<]*)</text>', svg)


@pytest.mark.parametrize("top", [1, 2, 3, 5, 7, 13])
def test_count_charts_label_their_axis_with_whole_numbers_only(top):
    bars = charts.bar_chart(MONTHS, [("New members", [0, top, 1], "series-a")], "Members")
    line = charts.line_chart(MONTHS, [0, top, 1], "Certificates", "series-d")
    for svg in (bars, line):
        labels = axis_labels(str(svg))
        assert len(labels) == charts.GRID_STEPS + 1
        assert all(label.replace(",", "").isdigit() for label in labels), labels
        assert int(labels[-1]) >= top


def test_hour_charts_may_use_fractional_grid_lines():
    svg = charts.line_chart(MONTHS, [0, 1, 0.5], "CE hours", "series-c", whole=False)
    assert axis_labels(str(svg)) == ["0", "0.25", "0.5", "0.75", "1"]

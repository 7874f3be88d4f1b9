"""Server-rendered SVG charts: no JavaScript, no external assets, readable without colour."""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 30


GRID_STEPS = 4


def _nice_max(value: float, whole: bool = True) -> float:
    """The smallest "round" axis top at or above `value` whose quarter lines are round too.

    For counts (`whole`) every grid line is a whole number: 1 member a month is drawn on a
    0-4 axis, not on 0, 0.2, 0.5, 0.8, 1.
    """
    if value <= 0:
        return GRID_STEPS
    raw = value / GRID_STEPS
    exponent = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * exponent
        if candidate >= raw and (
            (candidate >= 1 and float(candidate).is_integer()) or (raw < 1 and not whole)
        ):
            return candidate * GRID_STEPS
    return 10 * exponent * GRID_STEPS


def _fmt(value: float) -> str:
    # Two places at most: a quarter-hour grid line reads 0.25, not a rounded 0.2.
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def _month_label(key: str) -> str:
    year, month = key.split("-")
    label = calendar.month_abbr[int(month)]
    return f"{label} {year[2:]}" if month == "01" else label


def _frame(months: Sequence[str], top: float, title: str) -> list[str]:
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    plot_h = HEIGHT - TOP - BOTTOM
    for i in range(GRID_STEPS + 1):
        value = top * i / GRID_STEPS
        y = TOP + plot_h - plot_h * i / GRID_STEPS
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart-axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_fmt(value)}</text>"
        )
    step = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    for i, key in enumerate(months):
        x = LEFT + step * (i + 0.5)
        parts.append(
            f'<text class="chart-axis" x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
            f"{escape(_month_label(key))}</text>"
        )
    return parts


def bar_chart(
    months: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], str]],
    title: str,
    *,
    whole: bool = True,
) -> Markup:
    """Grouped bars per month; each series is (name, values, css class); counts by default."""
    top = _nice_max(max((v for _n, values, _c in series for v in values), default=0), whole)
    parts = _frame(months, top, title)
    plot_h = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    bar_w = step * 0.7 / max(len(series), 1)
    for s_index, (name, values, css) in enumerate(series):
        for i, value in enumerate(values):
            h = plot_h * value / top if top else 0
            x = LEFT + step * i + step * 0.15 + bar_w * s_index
            y = TOP + plot_h - h
            parts.append(
                f'<rect class="chart-bar {escape(css)}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{bar_w - 1:.1f}" height="{max(h, 0):.1f}" rx="2">'
                f"<title>{escape(name)}, {escape(_month_label(months[i]))}: {_fmt(value)}</title>"
                "</rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    months: Sequence[str], values: Sequence[float], title: str, css: str, *, whole: bool = True
) -> Markup:
    """One line with dots per month, the area under it lightly filled; counts by default."""
    top = _nice_max(max(values, default=0), whole)
    parts = _frame(months, top, title)
    plot_h = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    points = [
        (LEFT + step * (i + 0.5), TOP + plot_h - (plot_h * v / top if top else 0))
        for i, v in enumerate(values)
    ]
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        base = TOP + plot_h
        parts.append(
            f'<polygon class="chart-area {escape(css)}" '
            f'points="{points[0][0]:.1f},{base} {path} {points[-1][0]:.1f},{base}"/>'
            f'<polyline class="chart-line {escape(css)}" points="{path}"/>'
        )
        for (x, y), key, value in zip(points, months, values, strict=True):
            parts.append(
                f'<circle class="chart-dot {escape(css)}" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
                f"<title>{escape(_month_label(key))}: {_fmt(value)}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def hbar_chart(
    rows: Sequence[tuple[str, float]], title: str, css: str = "series-a", *, whole: bool = True
) -> Markup:
    """Horizontal bars with their labels, for a ranking (e.g. leads per download)."""
    row_h, label_w, width = 30, 230, WIDTH
    height = max(len(rows), 1) * row_h + 8
    top = _nice_max(max((v for _l, v in rows), default=0), whole)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        w = (width - label_w - 60) * value / top if top else 0
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text class="chart-label" x="{label_w - 8}" y="{y + 19}" text-anchor="end">'
            f"{escape(short)}</text>"
            f'<rect class="chart-bar {escape(css)}" x="{label_w}" y="{y + 5}" width="{w:.1f}" '
            f'height="{row_h - 10}" rx="3"><title>{escape(label)}: {_fmt(value)}</title></rect>'
            f'<text class="chart-value" x="{label_w + w + 6:.1f}" y="{y + 19}">{_fmt(value)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))

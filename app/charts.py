"""The one chart module: small SVG charts drawn on the server, so they work offline and keep the
Content-Security-Policy (no inline style or script: only SVG presentation attributes and classes).

A chart is never the only way to read the figures: the page shows a table and a sentence too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 340, 200
LEFT, RIGHT, TOP, BOTTOM = 30, 10, 10, 34
BAND_FILLS = {"ok": "#e3f1e6", "warn": "#fdf0cc", "danger": "#f9dcda"}
INK, MUTED = "#1b1f24", "#4a5360"


@dataclass(frozen=True)
class Point:
    moment: datetime
    value: float
    date_label: str  # e.g. "3 Mar 2026"
    value_label: str  # e.g. "18 (Moderately severe)"


@dataclass(frozen=True)
class Area:
    low: float
    high: float
    tone: str  # ok / warn / danger
    label: str


@dataclass(frozen=True)
class Line:
    value: float
    label: str


def _fmt(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


def line_chart(*, title: str, points: Sequence[Point], y_min: float, y_max: float, areas: Sequence[Area] = (),
               lines: Sequence[Line] = (), chart_id: str = "chart") -> Markup:
    """A dated line over shaded bands, with marked lines (e.g. the reliable-change threshold)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (y_max - y_min) or 1

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (min(max(value, y_min), y_max) - y_min) / span)

    times = [p.moment.timestamp() for p in points]
    first, last = (min(times), max(times)) if times else (0, 0)

    def x(moment: datetime) -> float:
        if last == first:
            return LEFT + plot_w / 2
        return LEFT + plot_w * (moment.timestamp() - first) / (last - first)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
             f'role="img" aria-labelledby="{chart_id}-title" class="chart__svg">',
             f'<title id="{chart_id}-title">{escape(title)}</title>']
    for area in areas:
        top, bottom = y(area.high), y(area.low)
        parts.append(f'<rect class="chart__band chart__band--{area.tone}" x="{LEFT}" y="{top:.1f}" width="{plot_w}" '
                     f'height="{max(bottom - top, 0.5):.1f}" fill="{BAND_FILLS.get(area.tone, "#eeeeee")}">'
                     f'<title>{escape(area.label)}: {_fmt(area.low)}–{_fmt(area.high)}</title></rect>')
    ticks = sorted({y_min, y_max, *(a.low for a in areas)})
    for tick in ticks:
        parts.append(f'<text x="{LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{MUTED}">{_fmt(tick)}</text>')
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="{MUTED}" '
                 f'stroke-width="1"/>')
    for line in lines:
        if y_min <= line.value <= y_max:
            parts.append(f'<line class="chart__threshold" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(line.value):.1f}" '
                         f'y2="{y(line.value):.1f}" stroke="{INK}" stroke-width="1.5" stroke-dasharray="5 4">'
                         f'<title>{escape(line.label)}</title></line>')
            parts.append(f'<text x="{LEFT + plot_w - 2}" y="{y(line.value) - 3:.1f}" text-anchor="end" '
                         f'font-size="10" fill="{INK}">{escape(line.label)}</text>')
    if len(points) > 1:
        path = " ".join(f"{x(p.moment):.1f},{y(p.value):.1f}" for p in points)
        parts.append(f'<polyline class="chart__line" points="{path}" fill="none" stroke="{INK}" stroke-width="2"/>')
    labelled = points if len(points) <= 4 else [points[0], points[-1]]
    for point in points:
        parts.append(f'<circle class="chart__point" cx="{x(point.moment):.1f}" cy="{y(point.value):.1f}" r="4.5" '
                     f'fill="{INK}"><title>{escape(point.date_label)}: {escape(point.value_label)}</title></circle>')
    for index, point in enumerate(labelled):
        anchor = "start" if index == 0 and len(labelled) > 1 else "end" if index == len(labelled) - 1 \
            and len(labelled) > 1 else "middle"
        parts.append(f'<text class="chart__date" x="{x(point.moment):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                     f'text-anchor="{anchor}" font-size="11" fill="{MUTED}">{escape(point.date_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

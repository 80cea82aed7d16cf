"""Charts as self-contained, accessible SVG (no script, no style attribute, no external asset).

Every chart has a ``<title>`` and a ``<desc>`` that states its data, text labels with the values, and
series told apart by line pattern and marker shape as well as colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

# colour, dash pattern, marker: three cues per series, so colour is never the only one
SERIES_STYLES = (
    ("#1f5fa8", "", "circle"),
    ("#2e7d32", "6 3", "square"),
    ("#b3261e", "2 3", "triangle"),
    ("#7a4fa0", "10 3 2 3", "diamond"),
    ("#8a5a00", "1 2", "cross"),
)
BAR = "#1f5fa8"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _open(ident: str, title: str, desc: str, width: int, height: int, css_class: str = "chart") -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="{_e(css_class)}" role="img" '
            f'viewBox="0 0 {width} {height}" '
            f'aria-labelledby="{_e(ident)}-title {_e(ident)}-desc" font-family="{_e(FONT)}" font-size="13">',
            f'<title id="{_e(ident)}-title">{_e(title)}</title>', f'<desc id="{_e(ident)}-desc">{_e(desc)}</desc>']


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(ident: str, title: str, items: Sequence[tuple[str, float]], *, unit: str = "",
              width: int = 320, label_chars: int = 44) -> str:
    """Horizontal bars, each with its label above it and its value at its end."""
    desc = f"{title}: " + ("; ".join(f"{label}: {_num(v)}{unit}" for label, v in items) if items else "no data.")
    if not items:
        height = 40
        parts = _open(ident, title, desc, width, height)
        parts.append('<text x="0" y="24" fill="#444">No data in this period.</text></svg>')
        return "\n".join(parts)
    top = max(v for _, v in items) or 1
    row, bar_h, value_room = 40, 16, 56
    height = row * len(items) + 4
    parts = _open(ident, title, desc, width, height)
    for i, (label, value) in enumerate(items):
        y = i * row
        length = (width - value_room) * (value / top)
        parts.append(f'<text x="0" y="{y + 14}" fill="#222">{_e(_cut(label, label_chars))}</text>')
        parts.append(f'<rect x="0" y="{y + 20}" width="{max(length, 1.5):.1f}" height="{bar_h}" fill="{BAR}"/>')
        parts.append(f'<text x="{length + 6:.1f}" y="{y + 33}" fill="#222" font-weight="600">'
                     f'{_e(_num(value))}{_e(unit)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _ticks(top: float) -> list[float]:
    """Round gridline values from 0 to at least ``top`` (at most about five)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    step = max(step, 1.0)
    return [step * k for k in range(int(math.ceil(top / step)) + 1)]


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if kind == "triangle":
        return (f'<polygon points="{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y + 3.5:.1f} {x - 4.5:.1f},{y + 3.5:.1f}" '
                f'fill="{colour}"/>')
    if kind == "diamond":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}" '
                f'fill="{colour}"/>')
    if kind == "cross":
        return (f'<path d="M{x - 4:.1f},{y - 4:.1f}L{x + 4:.1f},{y + 4:.1f}M{x - 4:.1f},{y + 4:.1f}'
                f'L{x + 4:.1f},{y - 4:.1f}" stroke="{colour}" stroke-width="2"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'


def line_chart(ident: str, title: str, buckets: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
               *, width: int = 720, legend_columns: int = 3, css_class: str = "chart") -> str:
    """Trend lines over the buckets, with a legend (pattern + marker + name + total) above the plot."""
    totals = "; ".join(f"{name}: {', '.join(_num(v) for v in values)}" for name, values in series)
    desc = (f"{title}, {len(buckets)} points from {buckets[0]} to {buckets[-1]}. {totals}."
            if buckets else f"{title}: no data.")
    legend_rows = math.ceil(len(series) / legend_columns)
    legend_h = legend_rows * 20 + 6
    left, right, plot_h, bottom = 36, 12, 170, 34
    height = legend_h + plot_h + bottom
    parts = _open(ident, title, desc, width, height, css_class)
    for i, (name, values) in enumerate(series):
        colour, dash, marker = SERIES_STYLES[i % len(SERIES_STYLES)]
        lx, ly = (i % legend_columns) * (width // legend_columns), (i // legend_columns) * 20 + 12
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 26}" y2="{ly - 4}" stroke="{colour}" '
                     f'stroke-width="2.5"{dashed}/>')
        parts.append(_marker(marker, lx + 13, ly - 4, colour))
        parts.append(f'<text x="{lx + 32}" y="{ly}" fill="#222">{_e(name)} ({_e(_num(sum(values)))})</text>')
    top = max((v for _, values in series for v in values), default=0)
    ticks = _ticks(top)
    y0, span = legend_h + plot_h, plot_h - 8
    scale = span / (ticks[-1] or 1)
    for t in ticks:
        y = y0 - t * scale
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#d0d0d0"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#444">{_e(_num(t))}</text>')
    n = len(buckets)
    step_x = (width - left - right - 16) / max(n - 1, 1)

    def x_at(i: int) -> float:
        return left + 8 + (i * step_x if n > 1 else (width - left - right - 16) / 2)

    every = max(1, math.ceil(n / max(3, width // 80)))  # a date label every 80 units or more
    for i, label in enumerate(buckets):
        if i % every == 0 or i == n - 1 and n <= 12:
            parts.append(f'<text x="{x_at(i):.1f}" y="{y0 + 20}" text-anchor="middle" fill="#444">'
                         f'{_e(label[5:] if len(label) == 10 else label)}</text>')
    for i, (_name, values) in enumerate(series):
        colour, dash, marker = SERIES_STYLES[i % len(SERIES_STYLES)]
        points = [(x_at(j), y0 - v * scale) for j, v in enumerate(values)]
        if len(points) > 1:
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dashed}/>')
        parts.extend(_marker(marker, x, y, colour) for x, y in points)
    parts.append("</svg>")
    return "\n".join(parts)

"""Charts as inline SVG, drawn on the server: no script, no third-party asset, nothing for the
content security policy to allow. Each chart is an image with a title and a description that
sum it up (role="img"); the page puts the same numbers in a table next to it, for screen
readers, keyboards and anyone who wants the exact figure.

Colours only through presentation attributes (the CSP forbids style attributes without a
nonce); all of them reach at least 4.5:1 against white."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from django.utils.formats import get_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

INK = "#1a1a1a"
GRID = "#767676"
BAR = "#1f4e79"
LINE = "#1f4e79"
MARK = "#a4262c"  # the budget line
WIDTH = 720
_ids = itertools.count(1)


def number(value: float | int) -> str:
    return number_formatter()(value)


def number_formatter() -> Callable[[float | int], str]:
    """Numbers grouped in the active language (German 1.234,50), as Django's number_format
    with grouping, with the separators looked up once: a year of daily rows feels the
    per-call cost."""
    thousands = str(get_format("THOUSAND_SEPARATOR"))
    decimal = str(get_format("DECIMAL_SEPARATOR"))

    def format_number(value: float | int) -> str:
        if isinstance(value, int) or float(value).is_integer():
            return f"{int(value):,}".replace(",", thousands)
        whole, _, fraction = f"{value:,.2f}".partition(".")
        return whole.replace(",", thousands) + decimal + fraction

    return format_number


def nice_top(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above value: round numbers on the axis."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def axis_step(value: float, steps: int = 4) -> int:
    """The step between the y axis's labels: a whole 1, 2 or 5 times a power of ten, so that
    `steps` of them reach value. Counts of people have no fractions, and rounding fractional
    steps would label two lines alike (0, 0, 1, 1)."""
    needed = max(value / steps, 1.0)
    power = 10 ** math.floor(math.log10(needed))
    return next(int(m * power) for m in (1, 2, 5, 10) if m * power >= needed)


def _frame(title: str, description: str, height: int, body: SafeString) -> SafeString:
    n = next(_ids)
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'aria-labelledby="chart{n}-title chart{n}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="chart{n}-title">{title}</title><desc id="chart{n}-desc">{desc}</desc>'
        "{body}</svg>",
        w=WIDTH,
        h=height,
        n=n,
        title=title,
        desc=description,
        body=body,
    )


def line(points: Sequence[tuple[str, int | None]], *, title: str, description: str) -> SafeString:
    """A line over time; points without a value leave a gap. Labels the first, middle and
    last point on the x axis and four steps on the y axis."""
    height, left, right, top, bottom = 260, 80, 16, 12, 36
    values = [v for _, v in points if v is not None]
    y_step = axis_step(max(values, default=0))
    ceiling = y_step * 4
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return top + plot_h - value / ceiling * plot_h

    parts: list[SafeString] = []
    for i in range(5):
        tick = y_step * i
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="{}" stroke-width="0.5"/>'
                '<text x="{}" y="{ty}" text-anchor="end" font-size="13" fill="{}">{}</text>',
                left,
                WIDTH - right,
                GRID,
                left - 8,
                INK,
                number(tick),
                y=f"{y(tick):.1f}",
                ty=f"{y(tick) + 4:.1f}",
            )
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (_, point) in enumerate(points):
        if point is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{left + i * step:.1f},{y(point):.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"/>',
                " ".join(seg),
                LINE,
            )
        )
    if points:
        shown = sorted({0, len(points) // 2, len(points) - 1})
        anchors = {0: "start", len(points) - 1: "end"}
        parts.extend(
            format_html(
                '<text x="{}" y="{}" text-anchor="{}" font-size="13" fill="{}">{}</text>',
                f"{left + i * step:.1f}",
                height - 10,
                anchors.get(i, "middle"),
                INK,
                points[i][0],
            )
            for i in shown
        )
    return _frame(title, description, height, mark_safe("".join(parts)))  # noqa: S308


def bars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    description: str,
    reference: tuple[str, float] | None = None,
    unit: str = "",
) -> SafeString:
    """Horizontal bars, one per item, the name on the left and the value at the bar's end;
    `reference` draws a vertical line (a budget) with its label."""
    label_w, right, row, top = 220, 110, 28, 8
    ceiling = nice_top(max([v for _, v in items] + ([reference[1]] if reference else []) + [0]))
    plot_w = WIDTH - label_w - right
    height = top * 2 + row * max(len(items), 1) + (22 if reference else 0)

    def x(value: float) -> float:
        return label_w + value / ceiling * plot_w

    body = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end" font-size="13" fill="{}">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
        '<text x="{}" y="{}" font-size="13" fill="{}">{}</text>',
        (
            (
                label_w - 8,
                f"{top + i * row + 18:.1f}",
                INK,
                _shorten(name),
                label_w,
                top + i * row + 4,
                f"{max(x(value) - label_w, 0):.1f}",
                row - 8,
                BAR,
                f"{x(value) + 6:.1f}",
                f"{top + i * row + 18:.1f}",
                INK,
                f"{number(value)}{unit}",
            )
            for i, (name, value) in enumerate(items)
        ),
    )
    if reference is not None:
        label, value = reference
        bottom = height - 22
        body += format_html(
            '<line x1="{x}" x2="{x}" y1="{}" y2="{}" stroke="{}" stroke-width="2" '
            'stroke-dasharray="6 4"/><text x="{x}" y="{}" text-anchor="middle" font-size="13" '
            'fill="{}">{}</text>',
            top,
            bottom,
            MARK,
            height - 6,
            MARK,
            f"{label} {number(value)}{unit}",
            x=f"{x(value):.1f}",
        )
    return _frame(title, description, height, body)


def _shorten(name: str, length: int = 28) -> str:
    return name if len(name) <= length else name[: length - 1] + "…"

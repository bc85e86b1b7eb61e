"""Small SVG charts drawn on the server: no script, no CDN, nothing for a CSP to refuse.

Each chart is one figure over the trend's weeks: a line for a rate (0 to 100 %), bars for a count,
a line for a duration (in hours). Weeks with nothing to measure leave a gap. The numbers behind
every chart are in a table next to it, for screen readers and for anyone who wants them exact.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from dashboard.selectors import FigureDefinition, Week

WIDTH, HEIGHT = 320, 140
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 10, 22


@dataclass
class Chart:
    figure: FigureDefinition
    svg: SafeString
    values: list[str]  # As shown in the table, one per week.
    latest: str
    rows: list[tuple[str, str]]  # (week, value) for the table of numbers.


def display(figure: FigureDefinition, value: object) -> str:
    """A figure as the page shows it: 87 %, 3, 5.5 h, or — when there is nothing to measure."""
    if value is None:
        return "—"
    if figure.kind == "rate":
        assert isinstance(value, float)
        return f"{value * 100:.0f} %"
    if figure.kind == "duration":
        assert isinstance(value, timedelta)
        return duration_text(value)
    return str(value)


def duration_text(value: timedelta) -> str:
    hours = value.total_seconds() / 3600
    if hours >= 48:
        return f"{hours / 24:.1f} d"
    if hours >= 1:
        return f"{hours:.1f} h"
    return f"{max(value.total_seconds() / 60, 0):.0f} min"


def _number(figure: FigureDefinition, value: object) -> float | None:
    if value is None:
        return None
    if figure.kind == "duration":
        assert isinstance(value, timedelta)
        return value.total_seconds() / 3600
    return float(value)  # type: ignore[arg-type]


def trend_chart(figure: FigureDefinition, weeks: list[Week]) -> Chart:
    values = [weeks_value(figure, week) for week in weeks]
    numbers = [_number(figure, value) for value in values]
    labels = [f"{week.starts:%b} {week.starts.day}" for week in weeks]
    measured = [number for number in numbers if number is not None]
    top = 1.0 if figure.kind == "rate" else max([*measured, 1.0])
    svg = _draw(figure, numbers, labels, top)
    shown = [display(figure, value) for value in values]
    return Chart(
        figure=figure,
        svg=svg,
        values=shown,
        latest=shown[-1] if shown else "—",
        rows=list(zip(labels, shown, strict=True)),
    )


def weeks_value(figure: FigureDefinition, week: Week) -> object:
    return week.figures.value(figure.key)


def _draw(figure: FigureDefinition, numbers: list[float | None], labels: list[str], top: float) -> SafeString:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(len(numbers), 1)
    step = plot_w / count

    def x(index: int) -> float:
        return LEFT + step * index + step / 2

    def y(number: float) -> float:
        return TOP + plot_h - (number / top) * plot_h if top else TOP + plot_h

    parts: list[str] = []
    # Gridlines and the axis labels: 0, half and the top.
    for fraction in (0, 0.5, 1):
        gy = TOP + plot_h - fraction * plot_h
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{LEFT - 4}" y="{gy + 3:.1f}" text-anchor="end">'
            f"{escape(_axis_label(figure, top * fraction))}</text>"
        )
    for index, label in enumerate(labels):
        if index % 3 == 0 or index == len(labels) - 1:
            parts.append(
                f'<text class="axis" x="{x(index):.1f}" y="{HEIGHT - 6}" text-anchor="middle">{escape(label)}</text>'
            )
    if figure.kind == "count":
        bar = step * 0.6
        for index, number in enumerate(numbers):
            if number is None:
                continue
            parts.append(
                f'<rect class="bar" x="{x(index) - bar / 2:.1f}" y="{y(number):.1f}" '
                f'width="{bar:.1f}" height="{TOP + plot_h - y(number):.1f}"/>'
            )
    else:
        segment: list[str] = []
        segments: list[list[str]] = []
        for index, number in enumerate(numbers):
            if number is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(index):.1f},{y(number):.1f}")
        if segment:
            segments.append(segment)
        for points in segments:
            parts.append(f'<polyline class="line" points="{" ".join(points)}"/>')
        for index, number in enumerate(numbers):
            if number is not None:
                parts.append(f'<circle class="dot" cx="{x(index):.1f}" cy="{y(number):.1f}" r="2.5"/>')
    body = "".join(parts)
    return format_html(
        '<svg class="trend-chart trend-{}" viewBox="0 0 {} {}" role="img" aria-label="{}" focusable="false">{}</svg>',
        figure.good,
        WIDTH,
        HEIGHT,
        f"{figure.label}, week by week; the numbers are in the table below the chart.",
        mark_safe(body),  # noqa: S308 - built above from numbers and escaped labels only.
    )


def _axis_label(figure: FigureDefinition, value: float) -> str:
    if figure.kind == "rate":
        return f"{value * 100:.0f}%"
    if figure.kind == "duration":
        return f"{value:.0f}h"
    return f"{value:.0f}"

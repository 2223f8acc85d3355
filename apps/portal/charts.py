"""Attainment against target as a small, accessible SVG line chart (server-rendered).

Drawn on a fixed 320 × 120 canvas that scales with its container. The chart is a
picture (``role="img"`` with a title and a description that states every figure);
the same figures are links in the table beside it, so nothing is reachable only by
hovering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

WIDTH, HEIGHT = 320, 120
LEFT, RIGHT, TOP, BOTTOM = 40, 16, 8, 22


@dataclass(frozen=True)
class Point:
    label: str  # "2026-09"
    value: Decimal | None
    status: str  # met | missed | pending | at_risk | no_data | none
    text: str  # the value with its unit, as people read it


def _scale(values: Sequence[Decimal], target: Decimal) -> tuple[float, float]:
    low = float(min([*values, target]))
    high = float(max([*values, target]))
    if high == low:
        high, low = high + 1, low - 1
    pad = (high - low) * 0.1
    return low - pad, high + pad


def _tick(value: float) -> str:
    return f"{value:.4g}"


def attainment_chart(points: Sequence[Point], target: Decimal, *, title: str) -> SafeString:
    """An SVG line chart of ``points`` with the ``target`` as a dashed line."""
    values = [p.value for p in points if p.value is not None]
    described = "; ".join(f"{p.label}: {p.text} ({p.status.replace('_', ' ')})" for p in points)
    description = _("Target %(target)s. %(points)s") % {"target": target, "points": described}
    if not values:
        return format_html('<p class="chart-empty">{}</p>', _("No figures yet for this objective."))
    low, high = _scale(values, target)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def x(index: int) -> float:
        return LEFT + index * step

    def y(value: Decimal | float) -> float:
        return TOP + plot_h * (1 - (float(value) - low) / (high - low))

    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
    ]
    for tick in (low + (high - low) * f for f in (0.1, 0.5, 0.9)):
        parts.append(
            f'<text class="tick" x="{LEFT - 4}" y="{y(tick) + 3:.1f}" text-anchor="end">'
            f"{escape(_tick(tick))}</text>"
        )
    target_y = y(target)
    parts.append(
        f'<line class="target" x1="{LEFT}" y1="{target_y:.1f}" x2="{WIDTH - RIGHT}" '
        f'y2="{target_y:.1f}"/>'
    )
    every = 1 if len(points) <= 6 else 2
    for index, point in enumerate(points):
        if index % every == (len(points) - 1) % every:
            parts.append(
                f'<text class="tick" x="{x(index):.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                f"{escape(point.label[2:])}</text>"
            )
    path = [f"{x(i):.1f},{y(p.value):.1f}" for i, p in enumerate(points) if p.value is not None]
    if len(path) > 1:
        parts.append(f'<polyline class="line" points="{" ".join(path)}"/>')
    for index, point in enumerate(points):
        if point.value is not None:
            parts.append(
                f'<circle class="dot {escape(point.status)}" cx="{x(index):.1f}" '
                f'cy="{y(point.value):.1f}" r="3.5"/>'
            )
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}. {escape(description)}" '
        f'preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
        + "".join(parts)
        + "</svg>"
    )
    return mark_safe(svg)


RUN_LABELS = {
    "running": gettext_noop("clock running"),
    "late": gettext_noop("clock running past the deadline"),
    "closed": gettext_noop("outside business hours"),
    "paused": gettext_noop("paused"),
}


def clock_bar(
    runs: Sequence[Any], start: int, end: int, deadline: int | None, *, title: str
) -> SafeString:
    """One ticket's clock as a bar: where it ran, stood still, paused and went late."""
    width, height, bar = 640, 44, 24
    span = max(end - start, 1)

    def x(epoch: int) -> float:
        return (epoch - start) / span * width

    parts = []
    for run in runs:
        label = _(RUN_LABELS.get(run.kind, run.kind))
        parts.append(
            f'<rect class="run {escape(run.kind)}" x="{x(run.start):.2f}" y="4" '
            f'width="{max(x(run.end) - x(run.start), 0.5):.2f}" height="{bar}">'
            f"<title>{escape(label)}</title></rect>"
        )
    if deadline is not None and start <= deadline <= end:
        parts.append(
            f'<line class="deadline" x1="{x(deadline):.2f}" y1="0" x2="{x(deadline):.2f}" '
            f'y2="{bar + 8}"/>'
        )
    return mark_safe(
        f'<svg class="clockbar" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="none">' + "".join(parts) + "</svg>"
    )

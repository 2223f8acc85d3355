"""Attainment against target as a small, accessible SVG line chart (server-rendered).

Drawn on a fixed canvas that scales with its container: a y axis with round ticks
in the objective's unit (named once at the top of the axis), an x axis with the
periods, the target as a dashed line, one dot per period coloured by its status.
The chart is a picture (``role="img"`` with a label that states every figure); the
same figures are links in the tiles beside it, so nothing is reachable only by
hovering.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 360, 150
LEFT, RIGHT, TOP, BOTTOM = 46, 10, 16, 24  # LEFT: the least room for the y axis' labels
DIGIT = 7.0  # the width of a character of a tick label (11 px text), for the room it needs
STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Point:
    label: str  # on the x axis: "Feb 26", "Q3 26"
    value: Decimal | None
    status: str  # met | missed | pending | at_risk | no_data | none
    text: str  # the value with its unit, as people read it
    period: str = ""  # "2026-02", for the description


@dataclass(frozen=True)
class Axis:
    """How the y axis shows values: divided by ``factor``, in ``unit``."""

    unit: str
    factor: float = 1.0


def axis_for(unit: str, high: float) -> Axis:
    """Clock seconds read as hours or minutes; every other unit as it is."""
    if unit == "s":
        if high >= 3 * 3600:
            return Axis(_("h"), 3600.0)
        if high >= 180:
            return Axis(_("min"), 60.0)
        return Axis(_("s"))
    return Axis(unit)


def nice_step(span: float, count: int) -> float:
    """The round step (1, 2, 2.5 or 5 × 10ⁿ) that cuts ``span`` into nearest ``count`` parts."""
    magnitude = 10 ** math.floor(math.log10(span / max(count, 1)))
    candidates = [m * magnitude * scale for m in STEPS for scale in (0.1, 1.0, 10.0)]
    return min(candidates, key=lambda step: (abs(span / step - count), -step))


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round values between ``low`` and ``high`` (inclusive), about ``count`` + 1 of them."""
    step = nice_step(high - low, count)
    first = math.ceil(low / step - 1e-9) * step
    ticks: list[float] = []
    value = first
    while value <= high + step * 1e-9 and len(ticks) < 12:
        ticks.append(round(value, 10))
        value += step
    return ticks


def tick_text(value: float, step: float) -> str:
    """``value`` with as many decimals as the step between ticks needs."""
    exponent = Decimal(str(round(step, 10))).normalize().as_tuple().exponent
    decimals = min(max(0, -exponent), 4) if isinstance(exponent, int) else 0
    return number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True)


def domain(values: Sequence[float], target: float) -> tuple[float, float]:
    """The y range: every value and the target, with a little room above and below."""
    low, high = min([*values, target]), max([*values, target])
    pad = (high - low) * 0.08 if high > low else abs(high) * 0.05 or 1.0
    return low - pad, high + pad


def attainment_chart(
    points: Sequence[Point], target: Decimal, *, title: str, unit: str, target_text: str
) -> SafeString:
    """An SVG line chart of ``points`` with the ``target`` as a dashed line."""
    values = [float(p.value) for p in points if p.value is not None]
    if not values:
        return mark_safe(
            f'<p class="chart-empty">{escape(_("No figures yet for this objective."))}</p>'
        )
    axis = axis_for(unit, max([*values, float(target)]))
    scaled = [v / axis.factor for v in values]
    goal = float(target) / axis.factor
    low, high = domain(scaled, goal)
    ticks = nice_ticks(low, high)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else nice_step(high - low, 4)
    labels = [tick_text(tick, step) for tick in ticks]
    # Wide labels ("99.975", "100.000") push the plot right instead of being cut off.
    left = max(LEFT, math.ceil(6 + 2 + DIGIT * max(map(len, labels), default=0)))
    plot_w, plot_h = WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM
    gap = plot_w / max(len(points), 1)

    def x(index: int) -> float:
        return left + gap * (index + 0.5)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - low) / (high - low))

    parts = [
        f'<text class="unit" x="{left - 6}" y="{TOP - 5}" text-anchor="end">'
        f"{escape(axis.unit)}</text>"
    ]
    for tick, text in zip(ticks, labels, strict=True):
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y(tick):.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{y(tick):.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y(tick) + 3.5:.1f}" text-anchor="end">'
            f"{escape(text)}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{left}" y1="{TOP}" x2="{left}" y2="{TOP + plot_h}"/>'
        f'<line class="axis" x1="{left}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>'
    )
    parts.append(
        f'<line class="target" x1="{left}" y1="{y(goal):.1f}" x2="{WIDTH - RIGHT}" '
        f'y2="{y(goal):.1f}"/>'
    )
    every = 1 if len(points) <= 6 else 2
    for index, point in enumerate(points):
        if (len(points) - 1 - index) % every == 0:
            parts.append(
                f'<text class="tick" x="{x(index):.1f}" y="{HEIGHT - 7}" text-anchor="middle">'
                f"{escape(point.label)}</text>"
            )
    path = [
        f"{x(i):.1f},{y(float(p.value) / axis.factor):.1f}"
        for i, p in enumerate(points)
        if p.value is not None
    ]
    if len(path) > 1:
        parts.append(f'<polyline class="line" points="{" ".join(path)}"/>')
    for index, point in enumerate(points):
        if point.value is not None:
            radius = 4.5 if point.status == "missed" else 3.5
            parts.append(
                f'<circle class="dot {escape(point.status)}" cx="{x(index):.1f}" '
                f'cy="{y(float(point.value) / axis.factor):.1f}" r="{radius}"/>'
            )
    described = "; ".join(
        f"{p.period or p.label}: {p.text} ({status_word(p.status)})" for p in points
    )
    label = _("%(title)s, target %(target)s. %(points)s") % {
        "title": title,
        "target": target_text,
        "points": described,
    }
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">'
        + "".join(parts)
        + "</svg>"
    )


STATUS_WORDS = {
    "met": gettext_noop("met"),
    "missed": gettext_noop("missed"),
    "pending": gettext_noop("on track"),
    "at_risk": gettext_noop("at risk"),
    "no_data": gettext_noop("no data"),
    "none": gettext_noop("not evaluated"),
}


def status_word(status: str) -> str:
    """A status in words, in the active language (a page says it once per tile)."""
    return _status_word(status, get_language() or "")


@lru_cache(maxsize=256)
def _status_word(status: str, language: str) -> str:
    return _(STATUS_WORDS.get(status, status))


def clock_bar(
    runs: Sequence[Any], start: int, end: int, deadline: int | None, *, title: str
) -> SafeString:
    """One ticket's clock as a bar: where it ran, stood still, paused and went late.

    The table beside the bar lists every stretch with its times and duration.
    """
    width, height, bar = 640, 32, 24
    span = max(end - start, 1)

    def x(epoch: int) -> float:
        return (epoch - start) / span * width

    parts = [
        f'<rect class="run {escape(run.kind)}" x="{x(run.start):.2f}" y="4" '
        f'width="{max(x(run.end) - x(run.start), 0.5):.2f}" height="{bar}"/>'
        for run in runs
    ]
    if deadline is not None and start <= deadline <= end:
        parts.append(
            f'<line class="deadline" x1="{x(deadline):.2f}" y1="0" x2="{x(deadline):.2f}" '
            f'y2="{height}"/>'
        )
    return mark_safe(
        f'<svg class="clockbar" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="none">' + "".join(parts) + "</svg>"
    )

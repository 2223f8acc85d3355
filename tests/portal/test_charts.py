"""The portal's drawings and words: chart axes, readable text changes, objective terms."""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import pairwise

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from apps.portal.charts import Point, attainment_chart, axis_for, nice_ticks
from apps.portal.textdiff import paired, word_changes
from apps.portal.wording import period_name
from apps.revisions.models import Metric, Objective
from apps.revisions.readable import TextLine
from apps.revisions.terms import objective_terms


@given(
    low=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    span=st.floats(min_value=1e-3, max_value=1e6, allow_nan=False),
)
def test_ticks_are_round_inside_the_range_and_few(low, span):
    high = low + span
    ticks = nice_ticks(low, high)

    assert 2 <= len(ticks) <= 12
    assert all(low - span * 1e-6 <= tick <= high + span * 1e-6 for tick in ticks)
    steps = {round(b - a, 9) for a, b in pairwise(ticks)}
    assert len({round(s / max(steps), 6) for s in steps}) == 1  # evenly spaced


def test_clock_seconds_read_as_hours_or_minutes():
    assert axis_for("s", 16 * 3600).factor == 3600
    assert axis_for("s", 45 * 60).factor == 60
    assert axis_for("%", 100).unit == "%"


def _points(values, statuses):
    return [
        Point(f"M{i}", None if v is None else Decimal(v), s, f"{v} %", f"2026-{i + 1:02d}")
        for i, (v, s) in enumerate(zip(values, statuses, strict=True))
    ]


def test_the_chart_has_axes_a_target_line_and_every_figure_in_its_label():
    svg = attainment_chart(
        _points(["99.95", "98.2", None, "100"], ["met", "missed", "none", "pending"]),
        Decimal("99.9"),
        title="Availability",
        unit="%",
        target_text="≥ 99.9 %",
    )

    assert svg.count('class="axis"') == 2 and svg.count('class="target"') == 1
    assert 'role="img"' in svg and svg.count("<circle") == 3
    assert '<circle class="dot missed"' in svg
    label = re.search(r'aria-label="([^"]*)"', svg).group(1)
    assert "target ≥ 99.9 %" in label and "2026-02: 98.2 % (missed)" in label
    assert "2026-03: None % (not evaluated)" in label
    y_ticks = re.findall(r'<text class="tick"[^>]*text-anchor="end">([^<]+)</text>', svg)
    assert y_ticks == ["98.5", "99.0", "99.5", "100.0"]
    x_ticks = re.findall(r'<text class="tick"[^>]*text-anchor="middle">([^<]+)</text>', svg)
    assert x_ticks == ["M0", "M1", "M2", "M3"]


def test_a_chart_without_figures_says_so():
    svg = attainment_chart(
        _points([None, None], ["none", "none"]), Decimal("90"), title="x", unit="%", target_text=""
    )
    assert "No figures yet" in svg and "<svg" not in svg


def test_the_ticks_of_a_german_chart_have_a_decimal_comma():
    with translation.override("de"):
        svg = attainment_chart(
            _points(["99.95", "99.2"], ["met", "missed"]),
            Decimal("99.9"),
            title="Verfügbarkeit",
            unit="%",
            target_text="≥ 99,9 %",
        )
    y_ticks = re.findall(r'<text class="tick"[^>]*text-anchor="end">([^<]+)</text>', svg)
    assert y_ticks and all(re.fullmatch(r"\d+,\d+", tick) for tick in y_ticks), y_ticks


def test_a_rewritten_line_shows_the_words_that_changed():
    parts = word_changes("Measured monthly.", "Measured monthly, reported weekly.")

    assert parts == [("same", "Measured monthly"), ("add", ", reported weekly"), ("same", ".")]
    assert word_changes("at 99.9 %", "at 99.95 %") == [
        ("same", "at 99."),
        ("del", "9"),
        ("add", "95"),
        ("same", " %"),
    ]
    rewritten = word_changes(
        "Revision 2 raises the availability commitment after the move.",
        "Revision 3 adds a first-contact resolution objective from 2027.",
    )
    assert [kind for kind, _ in rewritten] == ["same", "del", "add", "same"]  # one phrase each
    lines = paired([TextLine("same", "A"), TextLine("del", "old"), TextLine("add", "new")])
    assert [line.kind for line in lines] == ["same", "edit"]
    unpaired = paired([TextLine("del", "x"), TextLine("del", "y"), TextLine("add", "z")])
    assert [line.kind for line in unpaired] == ["del", "del", "add"]


@pytest.mark.parametrize(
    ("fields", "english"),
    [
        (
            {"metric": Metric.AVAILABILITY, "target": Decimal("99.95")},
            "Availability ≥ 99.95 %, per month",
        ),
        (
            {
                "metric": Metric.RESOLUTION_TIME,
                "target": Decimal("97"),
                "threshold_seconds": 14400,
                "priority": "P1",
            },
            "Resolution within 4 h 00 min for ≥ 97 % of P1 tickets, per month",
        ),
        (
            {
                "metric": Metric.TURNAROUND_TIME,
                "target": Decimal("57600"),
                "comparison": "lte",
                "aggregate": "p90",
            },
            "Turnaround time (90th percentile) ≤ 16 h 00 min, per month",
        ),
        (
            {
                "metric": Metric.SAMPLE,
                "target": Decimal("250"),
                "comparison": "lte",
                "aggregate": "p95",
                "sample_metric": "latency_ms",
                "period": "quarter",
            },
            "latency_ms (95th percentile) ≤ 250 ms, per quarter",
        ),
    ],
)
def test_objectives_in_words_with_units(fields, english):
    assert objective_terms(Objective(key="k", **fields)) == english


def test_period_names():
    assert period_name("2026-02") == "Feb 2026"
    assert period_name("2026-Q3") == "Q3 2026"
    assert period_name("2026-02", short=True) == "Feb ’26"
    assert period_name("garbage") == "garbage"


def test_wide_tick_labels_get_the_room_they_need():
    """Availability near 100 % with ticks every 0.025 reads "99.975" and "100.000": the
    plot moves right so that no label starts left of the picture (it was cut to
    "00.000")."""
    points = [
        Point(f"M{i}", Decimal(v), "met", f"{v} %")
        for i, v in enumerate(["99.99", "100", "99.97", "99.995"])
    ]
    svg = attainment_chart(
        points, Decimal("99.95"), title="Availability", unit="%", target_text="≥ 99.95 %"
    )
    labels = re.findall(
        r'<text class="tick" x="([\d.]+)" y="[\d.]+" text-anchor="end">([^<]+)<', svg
    )
    assert any(len(text) >= 6 for _, text in labels), labels
    for x, text in labels:
        assert float(x) - 7.0 * len(text) >= 0, (x, text)

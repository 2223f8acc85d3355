"""The quick path of ingestion cleaning gives exactly what the full path gives, or gives up.

``Cleaner.quick`` exists for speed only (docs/PERFORMANCE.md, "Bulk ticket
ingestion"): whatever it accepts, ``Cleaner.full`` must accept with the same values;
whatever it refuses is cleaned by ``full``, which names the problem. Hypothesis
throws near-valid items at both: every field right, wrong, missing or of the wrong
type, unknown fields, pauses in and out of order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.measurements.ingestion import OUTAGES, SAMPLES, TICKETS

BASE = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
ZONES = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]


def _instant(minutes: int, zone: timezone, style: int) -> str:
    moment = (BASE + timedelta(minutes=minutes)).astimezone(zone)
    text = moment.isoformat()
    if style == 1:
        return text.replace("+00:00", "Z")
    if style == 2:
        return f" {text} "  # padded: the full path strips it
    return text


ODD_VALUES = st.sampled_from(
    [
        None,
        "",
        " ",
        "2026-10-01T09:00:00",  # naive
        "2026-10-01T09:00:00+15:00",  # offset too large
        "0001-01-01T00:00:00+01:00",
        "yesterday",
        7,
        -1,
        True,
        1.5,
        [],
        {},
        "x" * 200,
        "a\x00b",
        "２０２６-10-01T09:00:00Z",
        "P1",
        "waiting_customer",
        "unplanned",
    ]
)


@st.composite
def timestamps(draw: st.DrawFn, low: int = 0) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(ODD_VALUES)
    minutes = draw(st.integers(low - 30, low + 600))
    return _instant(minutes, draw(st.sampled_from(ZONES)), draw(st.integers(0, 2)))


@st.composite
def pauses(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 14)) == 0:
        return draw(ODD_VALUES)
    pause: dict[str, Any] = {"start": draw(timestamps(60))}
    if draw(st.booleans()):
        pause["end"] = draw(timestamps(90))
    if draw(st.booleans()):
        pause["reason"] = draw(st.sampled_from(["waiting_customer", "waiting_third_party", "x"]))
    if draw(st.integers(0, 19)) == 0:
        pause["note"] = "unknown field"
    return pause


def _maybe(draw: st.DrawFn, item: dict[str, Any], name: str, value: Any) -> None:
    """Set, leave out, or spoil ``name``."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return
    item[name] = draw(ODD_VALUES) if choice == 1 else value


@st.composite
def tickets(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 29)) == 0:
        return draw(ODD_VALUES)
    item: dict[str, Any] = {}
    _maybe(draw, item, "external_id", draw(st.sampled_from(["INC-1", " INC-2 ", "x" * 128])))
    _maybe(draw, item, "service", draw(st.sampled_from([1, "2", 0, 2**63])))
    _maybe(draw, item, "customer", draw(st.sampled_from([3, None, "4"])))
    _maybe(draw, item, "priority", draw(st.sampled_from(["P1", "", "P" * 17])))
    _maybe(draw, item, "opened_at", draw(timestamps(0)))
    for name in ("first_response_at", "resolved_at", "closed_at"):
        _maybe(draw, item, name, draw(timestamps(30)))
    _maybe(draw, item, "contacts", draw(st.sampled_from([1, "2", 0, 2**31])))
    _maybe(draw, item, "pauses", draw(st.lists(pauses(), max_size=3)))
    if draw(st.integers(0, 19)) == 0:
        item["color"] = "unknown field"
    return item


@st.composite
def outages(draw: st.DrawFn) -> Any:
    item: dict[str, Any] = {}
    _maybe(draw, item, "external_id", "OUT-1")
    _maybe(draw, item, "service", 1)
    _maybe(draw, item, "start", draw(timestamps(0)))
    _maybe(draw, item, "end", draw(timestamps(5)))
    _maybe(draw, item, "kind", draw(st.sampled_from(["planned", "unplanned", "other"])))
    _maybe(draw, item, "cause", draw(st.sampled_from(["provider", "customer", "other"])))
    _maybe(draw, item, "description", "Storage failover")
    return item


@st.composite
def samples(draw: st.DrawFn) -> Any:
    item: dict[str, Any] = {}
    _maybe(draw, item, "external_id", "S-1")
    _maybe(draw, item, "service", 1)
    _maybe(draw, item, "metric", draw(st.sampled_from(["latency_ms", "Latency", "x-y"])))
    _maybe(draw, item, "at", draw(timestamps(0)))
    _maybe(draw, item, "value", draw(st.sampled_from([1.5, "2.5", "nan", 10**400, "1e999"])))
    return item


def _agree(cleaner: Any, raw: Any) -> bool:
    """quick(raw) is None, or it equals what full(raw) gives without errors."""
    quick = cleaner.quick(raw)
    full = cleaner.full(raw)
    if quick is None:
        return True
    assert full.errors == {}, (raw, full.errors)
    assert quick == full.values, raw
    return True


@settings(max_examples=400, deadline=None)
@given(tickets())
def test_quick_ticket_cleaning_agrees_with_the_full_path(raw):
    assert _agree(TICKETS, raw)


@settings(max_examples=150, deadline=None)
@given(outages())
def test_quick_outage_cleaning_agrees_with_the_full_path(raw):
    assert _agree(OUTAGES, raw)


@settings(max_examples=150, deadline=None)
@given(samples())
def test_quick_sample_cleaning_agrees_with_the_full_path(raw):
    assert _agree(SAMPLES, raw)


def test_a_plain_good_ticket_takes_the_quick_path():
    raw = {
        "external_id": "INC-1",
        "service": 1,
        "opened_at": "2026-10-01T09:00:00+02:00",
        "first_response_at": "2026-10-01T09:20:00+02:00",
        "resolved_at": None,
        "pauses": [{"start": "2026-10-01T10:00:00+02:00", "end": "2026-10-01T11:00:00Z"}],
    }
    assert TICKETS.quick(raw) == TICKETS.full(raw).values
    assert TICKETS.quick(raw)["pauses"][0]["reason"] == "waiting_customer"

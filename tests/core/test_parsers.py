"""The nesting depth of a JSON body, counted on its bytes at C speed (apps.core.parsers)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.parsers import MAX_DEPTH, nesting_depth


def _reference_depth(raw: bytes) -> int:
    """The byte-by-byte count the fast one replaced (strings skipped, escapes honoured)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


TRICKY_TEXT = st.sampled_from(["[", '{"', '\\"[', "\\", '"]', "ok", "ü[", "\n{"])
JSON_VALUES = st.recursive(
    st.none() | st.integers() | st.text(max_size=5) | TRICKY_TEXT,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3) | TRICKY_TEXT, inner, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_nesting_depth_counts_brackets_outside_strings_exactly(value, ascii_only):
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert nesting_depth(raw, limit=10_000) == _reference_depth(raw)


def test_nesting_depth_stops_counting_past_the_limit():
    deep = b"[" * 100_000 + b"]" * 100_000
    assert nesting_depth(deep) == MAX_DEPTH + 1
    assert nesting_depth(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}') == 1
    assert nesting_depth(b'["\\"[[[", {"k\\\\": [[]]}]') == 4

"""JSON request bodies, refused with a 400 when nested too deeply or too large to be ours.

Python's json module recurses once per nesting level; a body like ``[[[[…]]]]`` ten
thousand levels deep raised RecursionError (a 500), even anonymously on the token
endpoint. The depth is counted on the raw bytes first (brackets outside strings),
so such a body is refused before any parsing.

The count runs at C speed (a 400 kB bulk ingestion body in about a millisecond):
everything but brackets and quotes is deleted with ``bytes.translate``, strings are
cut out (split on quotes when the body has no backslash, else a regular expression
on the whole body), and only the brackets that remain are walked in Python.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(code for code in range(256) if code not in b"[]{}")
_NOT_A_BRACKET_OR_QUOTE = bytes(code for code in range(256) if code not in b'[]{}"')


def _brackets_outside_strings(raw: bytes) -> bytes:
    """The brackets of ``raw`` that are not inside a JSON string (exact for valid JSON;
    for invalid JSON, whatever: the parser refuses it anyway)."""
    if b"\\" not in raw:  # no escapes: every quote opens or closes a string
        quotes_and_brackets = raw.translate(None, _NOT_A_BRACKET_OR_QUOTE)
        return b"".join(quotes_and_brackets.split(b'"')[::2])
    return _STRING.sub(b"", raw).translate(None, _NOT_A_BRACKET)


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """The deepest bracket nesting of a JSON text (counting stops past ``limit``)."""
    brackets = _brackets_outside_strings(raw)
    depth = deepest = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:  # ] }
            depth -= 1
    return deepest


class SafeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if nesting_depth(raw) > MAX_DEPTH:
            raise ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error: {exc}") from None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON.")

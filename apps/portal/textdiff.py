"""A changed paragraph as people read it: the words removed and added inside it.

``apps.revisions.readable.section_lines`` gives whole lines (a removed line, then an
added one); a contract paragraph is one long line, so the portal pairs each run of
removed lines with the added lines after it and marks the words that differ.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from apps.revisions.readable import TextLine

WORDS = re.compile(r"\s+|\w+|[^\w\s]")
SHORT = 3  # an unchanged word this short between two changes joins them


@dataclass(frozen=True)
class Line:
    kind: str  # add | del | same | gap | edit
    text: str = ""
    parts: list[tuple[str, str]] = field(default_factory=list)  # edit: (same|add|del, text)


def word_changes(old: str, new: str) -> list[tuple[str, str]]:
    """``old`` → ``new`` as runs of unchanged, removed and added text.

    Changes separated only by a space or a short word are joined, so a rewritten
    phrase reads as one removal and one addition rather than a word salad.
    """
    before, after = WORDS.findall(old), WORDS.findall(new)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    runs: list[list[str]] = []  # [kind, old text, new text]; kind: same | change
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        kind = "same" if op == "equal" else "change"
        runs.append([kind, "".join(before[a1:a2]), "".join(after[b1:b2])])
    merged: list[list[str]] = []
    for run in runs:
        if (
            run[0] == "change"
            and len(merged) >= 2
            and merged[-1][0] == "same"
            and len(merged[-1][1].strip()) <= SHORT
            and merged[-2][0] == "change"
        ):
            glue = merged.pop()[1]
            merged[-1][1] += glue + run[1]
            merged[-1][2] += glue + run[2]
        else:
            merged.append(run)
    parts: list[tuple[str, str]] = []
    for kind, was, now in merged:
        if kind == "same":
            parts.append(("same", was))
            continue
        if was:
            parts.append(("del", was))
        if now:
            parts.append(("add", now))
    return parts


def paired(lines: list[TextLine]) -> list[Line]:
    """Removed lines followed by as many added ones become word-level edits."""
    out: list[Line] = []
    index = 0
    while index < len(lines):
        removed = []
        while index < len(lines) and lines[index].kind == "del":
            removed.append(lines[index])
            index += 1
        added = []
        while index < len(lines) and lines[index].kind == "add":
            added.append(lines[index])
            index += 1
        if removed and len(removed) == len(added):
            out += [
                Line("edit", parts=word_changes(r.text, a.text))
                for r, a in zip(removed, added, strict=True)
            ]
        else:
            out += [Line(line.kind, line.text) for line in removed + added]
        if index < len(lines) and lines[index].kind not in ("del", "add"):
            out.append(Line(lines[index].kind, lines[index].text))
            index += 1
    return out

"""Record a harness's figures in docs/RELIABILITY.md, in its own section only.

Each harness owns one block between ``<!-- reliability:NAME -->`` and
``<!-- /reliability:NAME -->`` (its "## ..." heading inside); a run replaces that
block and leaves every other section of the file as it was. The file is read just
before it is written, so sections others add meanwhile are kept.
"""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "RELIABILITY.md"
TITLE = "# Reliability\n\n"


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = match.group(1).strip() if match else cpu
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} cores "
        f"({cpu}), Linux {platform.release()}, Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.1f} (1 min) when it ended — the machine is shared"
    )


def write_section(name: str, body: str, doc: Path = DOC) -> None:
    block = f"<!-- reliability:{name} -->\n{body.strip()}\n<!-- /reliability:{name} -->"
    text = doc.read_text() if doc.exists() else TITLE
    pattern = re.compile(rf"<!-- reliability:{name} -->.*?<!-- /reliability:{name} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(text)


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)

"""Tables as text: each row carries its header, so a chunk holding one row still reads on its own."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_NUMBER = re.compile(r"^[-+]?[\d.,% $€£¥]+$")


def render_row(header: Sequence[str] | None, row: Sequence[str]) -> str:
    """`h1: v1; h2: v2` with a header (empty values left out), `v1 | v2` without one."""
    if header:
        parts = []
        for i, value in enumerate(row):
            if not value:
                continue
            name = header[i] if i < len(header) and header[i] else ""
            parts.append(f"{name}: {value}" if name and name != value else value)
        return "; ".join(parts)
    return " | ".join(v for v in row if v)


def render_table(rows: Iterable[Sequence[str]], header: bool) -> str:
    rows = [list(r) for r in rows if any(r)]
    if not rows:
        return ""
    if header and len(rows) > 1:
        head, body = rows[0], rows[1:]
        return "\n".join(line for line in (render_row(head, r) for r in body) if line)
    return "\n".join(render_row(None, r) for r in rows)


def looks_like_header(row: Sequence[str]) -> bool:
    """A first row of distinct, non-empty, non-numeric labels reads as a header."""
    cells = [c for c in row if c]
    return (
        len(cells) >= 2
        and len(cells) == len(row)
        and len(set(cells)) == len(cells)
        and not any(_NUMBER.match(c) for c in cells)
        and all(len(c) <= 80 for c in cells)
    )

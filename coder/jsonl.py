"""JSON Lines: one JSON value per ``\\n``-terminated line.

JSON strings may hold U+2028, U+2029, NEL (U+0085) and other characters that ``str.splitlines()``
treats as line breaks, and ``json.dumps(..., ensure_ascii=False)`` writes them as they are. A JSONL
reader must therefore split on ``\\n`` only (a ``\\r`` before it is dropped, for files saved with
CR LF), never with ``splitlines()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number from 1, line) of every non-blank line of a JSONL text."""
    for n, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        if line.strip():
            yield n, line


def read_lines(path: str | Path, encoding: str = "utf-8-sig") -> Iterator[tuple[int, str]]:
    """``lines()`` of a file (UTF-8, a byte-order mark allowed)."""
    return lines(Path(path).read_text(encoding=encoding))

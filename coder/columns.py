"""Plain-text tables that line up in a terminal, Japanese included.

A terminal gives East Asian wide and full-width characters (kana, kanji, ＡＢＣ) two columns, so
``f"{name:24}"``, which counts code points, leaves a row with a Japanese name too wide. Here text is
padded by display width instead. The command line's tables and the library's text renderers
(``agreement.to_text``) use it; the width counting is ``unicodedata.east_asian_width`` (W and F take
two columns, combining marks none, everything else one).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Sequence

# [[fill]align][sign][z][#][0][width][grouping][.precision][type] of a format spec (PEP 3101)
_SPEC = re.compile(r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<flags>[-+ ]?z?#?0?)(?P<width>\d*)(?P<rest>.*)", re.S)


def width(text: str) -> int:
    """Display columns of ``text`` in a terminal: 2 per East Asian wide or full-width character, 0 per
    combining mark, 1 per other character."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int, align: str = "<", fill: str = " ") -> str:
    """``text`` filled to ``columns`` display columns: left-aligned (``"<"``), right (``">"``) or
    centred (``"^"``); text already that wide is returned as it is (never cut)."""
    gap = max(columns - width(text), 0)
    if align == ">":
        return fill * gap + text
    if align == "^":
        return fill * (gap // 2) + text + fill * (gap - gap // 2)
    return text + fill * gap


def table(spec: str, rows: Iterable[Sequence], header: Sequence[str] | None = None) -> list[str]:
    """The lines of ``rows`` (sequences of values, one per field) formatted by ``spec``, a ``str.format``
    string of automatically numbered fields such as ``"{:>3}  {:24} {:>5} {} turns"``, with ``header``
    (titles, one per field) as the first line if given.

    A field with a width is padded to that many display columns or, if a value (or title) is wider,
    to the widest one's, so every line lines up and nothing is cut; a field without a width is not
    padded. Values are formatted with the rest of their spec (``.2f``, ``,``); numbers are right-aligned
    unless the spec says otherwise, as in ``format``. For values that fit their widths and take one
    column per character (ASCII), each line is ``spec.format(*row)``. ``ValueError`` for a named,
    numbered or converted field (``{0}``, ``{name}``, ``{!r}``)."""
    parts = []  # (literal text before the field, fill, align, width or None, value spec) per field
    tail = ""
    for literal, field, fmt, conversion in string.Formatter().parse(spec):
        if field is None:
            tail = literal
            continue
        if field or conversion:
            raise ValueError(f"table(): only automatically numbered fields ({{}} or {{:spec}}), not {{{field}}}")
        m = _SPEC.fullmatch(fmt or "")
        parts.append(
            (
                literal,
                m["fill"] or " ",
                m["align"],
                int(m["width"]) if m["width"] else None,
                m["flags"].replace("0", "") + m["rest"],
            )
        )
    rows = [list(row) for row in rows]
    cells = [[format(value, part[4]) for value, part in zip(row, parts, strict=True)] for row in rows]
    titles = [[str(t) for t in header]] if header is not None else []
    aligns = [
        {"=": ">", None: ">" if any(_is_number(row[i]) for row in rows) else "<"}.get(align, align)
        for i, (_, _, align, _, _) in enumerate(parts)
    ]
    widths = [
        None if w is None else max([w, *(width(line[i]) for line in titles + cells)])
        for i, (_, _, _, w, _) in enumerate(parts)
    ]
    out = []
    for line in titles + cells:
        text = ""
        for i, (literal, fill, _, _, _) in enumerate(parts):
            text += literal + (line[i] if widths[i] is None else pad(line[i], widths[i], aligns[i], fill))
        out.append(text + tail)
    return out


def markdown_table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A Markdown pipe table (header, rule, one line per row of values) whose columns also line up as
    plain text: every cell padded by display width to its column's widest, the rule as wide."""
    cells = [[str(v) for v in row] for row in [header, *rows]]
    widths = [max(width(line[i]) for line in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(pad(c, w) for c, w in zip(line, widths)) + " |" for line in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "".join(line + "\n" for line in lines)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)

"""Labelled statements: JSONL files of ``{"id", "text", "perspective"?, "codes"?, "org"?}``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import CoderError
from ..jsonl import lines as jsonl_lines


def read_jsonl(path: str | Path, need_codes: bool = False) -> list[dict]:
    """Items ``{"id", "text", "perspective"?, "codes"?}``; CoderError names the file and line."""
    items = []
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CoderError(f"{path}: cannot read: {exc}") from exc
    for n, line in jsonl_lines(text):  # "\n" only: strings may hold U+2028, which splitlines() breaks on
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise CoderError(f"{path}, line {n}: not JSON: {exc}") from exc
        if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("text"), str):
            raise CoderError(f'{path}, line {n}: expected an object with "id" and "text"')
        if need_codes and not isinstance(item.get("codes"), list):
            raise CoderError(f'{path}, line {n}: a labelled line needs "codes": [code ids]')
        items.append(item)
    return items


def label_matrix(items: list[dict], codebook, source: str) -> np.ndarray:
    """[items, codes] 0/1 matrix of each item's ``codes`` in codebook order; ``CoderError`` naming ``source``
    for a code not in the codebook."""
    ids = codebook.ids
    Y = np.zeros((len(items), len(ids)), dtype=int)
    for i, item in enumerate(items):
        for code in item["codes"]:
            if code not in ids:
                raise CoderError(
                    f"{source}: item {item['id']!r} has code {code!r}, not in codebook "
                    f"{codebook.version_tag} ({', '.join(ids)})"
                )
            Y[i, ids.index(code)] = 1
    return Y

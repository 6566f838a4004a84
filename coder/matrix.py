"""The stakeholder-perspective matrix: rows (perspective, case or transcript) × codes.

Each cell: coded segments, distinct interviewees (speaker × transcript), the share of the row's
segments the source has coded at all, and ranked representative quotes. Quotes are ranked by
confidence (the final/consensus codes and codes more analysts agree on first, then the suggester's
score), then by centrality (TF-IDF cosine of the segment's content words to the cell's centroid);
near-duplicates (content-word Jaccard ≥ 0.6) and very short segments are skipped.

Per code, a χ² test of presence × row (with adjusted standardised residuals per cell; Fisher's
exact test when an expected count is below 5) is reported as exploratory: segments of one
interview are not independent, so read it as a pointer, not as proof.
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np

from . import layers
from .errors import CoderError

BY = ("perspective", "case", "transcript")
ROWS = ("person", "supporter", "employer")  # matrix rows for by=perspective, in this order
QUOTES = 3
MIN_QUOTE_CHARS = 12
NEAR_DUPLICATE = 0.6
FIELD = {"perspective": "perspective", "case": "case_name", "transcript": "transcript"}
SOURCE_LABELS = {"consensus": "合意（裁定済み・全員一致のコード）", "all": "全分析者（和集合）",
                 "model": "提案のみ（未確認）"}


def _content(tokens_json: str) -> list[str]:
    """Content-word norms of a stored segment (nouns, verbs, adjectives; no particles or symbols)."""
    keep = ("名詞", "動詞", "形容詞", "形状詞", "副詞")
    return [t[3] for t in json.loads(tokens_json or "[]") if t[4].startswith(keep) and not t[4].startswith("名詞-数詞")]


def build(db, codebook, by: str = "perspective", source: str = "consensus", quotes: int = QUOTES,
          case: str | None = None, transcript: str | int | None = None) -> dict:
    """The matrix as the documented JSON shape (plus totals, labels and the exploratory tests)."""
    if by not in BY:
        raise CoderError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    codes = codebook.ids  # core codes first, then further: the codebook's order
    rows_all = layers.coded_rows(db, source, codes)
    scope = _scope(db, source, case, transcript)
    rows_all = [r for r in rows_all if r["segment_id"] in scope]
    field = FIELD[by]
    keys = [p for p in ROWS if any(s[field] == p for s in scope.values())] if by == "perspective" else \
        sorted({s[field] or "―" for s in scope.values()})
    totals = {k: sum((s[field] or "―") == k for s in scope.values()) for k in keys}
    support = defaultdict(int)  # (segment, code) -> analysts who confirmed it (quote confidence)
    if source != "model":
        for r in layers.codings_for(db, "all"):
            support[(r["segment_id"], r["code"])] += 1
    tokens = {r["id"]: _content(r["tokens"]) for r in _tokens(db, {r["segment_id"] for r in rows_all})}
    cells = {k: {c: [] for c in codes} for k in keys}
    for r in rows_all:
        key = r[field] or "―"
        if key in cells and r["code"] in cells[key]:
            cells[key][r["code"]].append(r)
    out = {"by": by, "source": source, "source_label": SOURCE_LABELS.get(source, f"分析者 {source}"),
           "unconfirmed": source == "model", "rows": keys, "codes": codes, "totals": totals, "cells": {}}
    vectorize = _vectorizer(tokens)
    for key in keys:
        out["cells"][key] = {}
        for code in codes:
            hits = _unique_segments(cells[key][code])
            out["cells"][key][code] = {
                "segments": len(hits),
                "interviewees": len({(h["transcript_id"], h["speaker"]) for h in hits}),
                "share": len(hits) / totals[key] if totals[key] else 0.0,
                "quotes": _quotes(hits, code, support, tokens, vectorize, quotes)}
    out["tests"] = tests(out)
    return out


def _scope(db, source, case, transcript) -> dict[int, dict]:
    """Segments the source has looked at (the share's denominator), by id, with their row fields."""
    from . import db as store

    units = {u["id"]: u for u in layers.segments(db, text=False)}
    info = {r["id"]: r for r in db.query("select id, case_name from transcripts")}
    if transcript is not None:
        tid = store.find_transcript(db, transcript)["id"]
        units = {i: u for i, u in units.items() if u["transcript_id"] == tid}
    if case is not None:
        units = {i: u for i, u in units.items() if info[u["transcript_id"]]["case_name"] == case}
    if source == "model":
        seen = {r["segment_id"] for r in db.query("select distinct segment_id from suggestions")}
    else:
        names = layers.analysts(db) if source in ("all", "consensus") else [source]
        seen = set()
        for name in names + (["consensus"] if source == "consensus" else []):
            seen |= {r["segment_id"] for r in db.query(
                "select segment_id from reviews where coder = ? union select segment_id from codings where coder = ?",
                [name, name])}
    return {i: {**u, "case_name": info[u["transcript_id"]]["case_name"]} for i, u in units.items() if i in seen}


def _tokens(db, ids):
    ids = sorted(ids)
    for part in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        yield from db.query(f"select id, tokens from segments where id in ({','.join('?' * len(part))})", part)


def _vectorizer(tokens: dict[int, list[str]]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not tokens or not any(tokens.values()):
        return None
    ids = list(tokens)
    vec = TfidfVectorizer(analyzer=lambda words: words, sublinear_tf=True)
    X = vec.fit_transform([tokens[i] for i in ids])
    where = {i: n for n, i in enumerate(ids)}
    return lambda segment_ids: X[[where[i] for i in segment_ids]]


def _unique_segments(rows: list[dict]) -> list[dict]:
    seen, out = set(), []
    for r in rows:  # source "all" has one row per analyst: a segment counts once
        if r["segment_id"] not in seen:
            seen.add(r["segment_id"])
            out.append(r)
    return out


def _quotes(hits, code, support, tokens, vectorize, n) -> list[dict]:
    if not hits or n <= 0:
        return []
    centrality = np.zeros(len(hits))
    if vectorize is not None:
        X = vectorize([h["segment_id"] for h in hits])
        centroid = np.asarray(X.mean(axis=0)).ravel()
        norm = np.linalg.norm(centroid)
        if norm:
            centrality = np.asarray(X @ (centroid / norm)).ravel()
    confidence = [(h["coder"] == "consensus") + support[(h["segment_id"], code)] + (h["score"] or 0) for h in hits]
    order = sorted(range(len(hits)), key=lambda i: (len(hits[i]["text"]) < MIN_QUOTE_CHARS, -round(confidence[i], 1),
                                                    -centrality[i], hits[i]["segment_id"]))
    chosen = []
    for i in order:
        words = set(tokens.get(hits[i]["segment_id"], []))
        if any(_jaccard(words, set(tokens.get(hits[j]["segment_id"], []))) >= NEAR_DUPLICATE for j in chosen):
            continue
        chosen.append(i)
        if len(chosen) == n:
            break
    return [{"text": hits[i]["text"], "transcript": hits[i]["transcript"], "speaker": hits[i]["speaker"],
             "start": hits[i]["start"], "end": hits[i]["end"], "segment_id": hits[i]["segment_id"],
             "transcript_id": hits[i]["transcript_id"], "case": hits[i]["case_name"],
             "start_time": hits[i]["start_time"]} for i in chosen]


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def tests(matrix: dict) -> dict:
    """Per code: χ² (or Fisher's exact) of presence × row, and adjusted standardised residuals."""
    from scipy.stats import chi2_contingency, fisher_exact

    out = {}
    keys = [k for k in matrix["rows"] if matrix["totals"][k]]
    for code in matrix["codes"]:
        present = np.array([matrix["cells"][k][code]["segments"] for k in keys], dtype=float)
        table = np.stack([present, np.array([matrix["totals"][k] for k in keys]) - present], axis=1)
        if len(keys) < 2 or table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
            out[code] = {"test": None, "p": None, "residuals": {}}
            continue
        chi2, p, _, expected = chi2_contingency(table, correction=False)
        n = table.sum()
        rows, cols = table.sum(axis=1, keepdims=True) / n, table.sum(axis=0, keepdims=True) / n
        residuals = (table - expected) / np.sqrt(expected * (1 - rows) * (1 - cols))
        test = "chi2"
        if (expected < 5).any():
            p, test = float(fisher_exact(table.astype(int)).pvalue), "fisher"
        out[code] = {"test": test, "chi2": float(chi2), "p": float(p),
                     "residuals": {k: float(r) for k, r in zip(keys, residuals[:, 0])}}
    return out


def _row_label(matrix: dict, key: str) -> str:
    from .speakers import PERSPECTIVES

    return PERSPECTIVES.get(key, key) if matrix["by"] == "perspective" else key


def to_markdown(matrix: dict, codebook) -> str:
    """A report-style synthesis: the count table, then per code and row the quotes."""
    rows, lines = matrix["rows"], []
    lines.append(f"# 立場 × コード マトリクス（出典：{matrix['source_label']}）\n")
    if matrix["unconfirmed"]:
        lines.append("> 注意：提案のみに基づく集計です。分析者による確認を経ていません。\n")
    lines.append("| コード | " + " | ".join(f"{_row_label(matrix, k)}（{matrix['totals'][k]}）" for k in rows) + " |")
    lines.append("|---|" + "---|" * len(rows))
    for code in matrix["codes"]:
        cells = [matrix["cells"][k][code] for k in rows]
        lines.append(f"| {codebook.code(code).name} | " + " | ".join(
            f"{c['segments']}（{c['interviewees']}人、{c['share']:.0%}）" for c in cells) + " |")
    lines.append("\n各セルは「セグメント数（話者数、その立場のセグメントに占める割合）」。\n")
    for code in matrix["codes"]:
        c = codebook.code(code)
        lines.append(f"## {c.name}（{c.name_en}）\n")
        test = matrix["tests"].get(code, {})
        for key in rows:
            cell = matrix["cells"][key][code]
            lines.append(f"### {_row_label(matrix, key)}：{cell['segments']} セグメント、{cell['interviewees']} 人\n")
            for q in cell["quotes"]:
                where = f"{q['transcript']}、{q['speaker']}、{q['start']}–{q['end']}字"
                lines.append(f"- 「{q['text']}」（{where}）")
            if not cell["quotes"]:
                lines.append("- （該当する発言はありません）")
            lines.append("")
        if test.get("p") is not None:
            marks = "、".join(f"{_row_label(matrix, k)} {r:+.2f}" for k, r in test["residuals"].items())
            name = "χ²検定" if test["test"] == "chi2" else "Fisherの正確確率検定"
            lines.append(f"探索的な参考値：{name} p = {test['p']:.3f}、調整済み標準化残差 {marks}\n")
    return "\n".join(lines)


def to_csv(matrix: dict, codebook) -> str:
    """One line per cell: row, code, segments, interviewees, share, and the quotes joined by ' / '."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([matrix["by"], "code", "code_name", "segments", "interviewees", "share", "row_segments",
                     "residual", "quotes"])
    for key in matrix["rows"]:
        for code in matrix["codes"]:
            cell = matrix["cells"][key][code]
            residual = matrix["tests"].get(code, {}).get("residuals", {}).get(key)
            writer.writerow([key, code, codebook.code(code).name, cell["segments"], cell["interviewees"],
                             round(cell["share"], 4), matrix["totals"][key],
                             "" if residual is None else round(residual, 3),
                             " / ".join(q["text"] for q in cell["quotes"])])
    return buffer.getvalue()

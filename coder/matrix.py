"""The stakeholder-perspective matrix: rows (perspective, case, transcript or an attribute) × codes.

Each cell: coded segments, distinct interviewees (speaker × transcript), the share of the row's
segments the source has coded at all, and ranked representative quotes. Quotes are ranked by
confidence (the final/consensus codes and codes more analysts agree on first, then the suggester's
score where it suggested the code), then by centrality (TF-IDF cosine of the segment's content words to the centroid of the
cell's CANDIDATES most confident segments);
near-duplicates (content-word Jaccard ≥ 0.6) and very short segments are skipped.

Per code, a χ² test of presence × row (with adjusted standardised residuals per cell; Fisher's
exact test when an expected count is below 5) is reported as exploratory: segments of one
interview are not independent, so read it as a pointer, not as proof.
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np

from . import attributes, layers
from .access import Policy
from .errors import CoderError, NotFound

BY = ("perspective", "case", "transcript")
ROWS = ("person", "supporter", "employer")  # matrix rows for by=perspective, in this order
QUOTES = 3
MIN_QUOTE_CHARS = 12
NEAR_DUPLICATE = 0.6
CANDIDATES = 100  # quote candidates per cell (the most confident) among which centrality is computed
FIELD = {"perspective": "perspective", "case": "case_name", "transcript": "transcript"}


def _content(tokens_json: str) -> list[str]:
    """Content-word norms of a stored segment (nouns, verbs, adjectives; no particles or symbols)."""
    keep = ("名詞", "動詞", "形容詞", "形状詞", "副詞")
    return [t[3] for t in json.loads(tokens_json or "[]") if t[4].startswith(keep) and not t[4].startswith("名詞-数詞")]


def build(
    db,
    codebook,
    by: str = "perspective",
    source: str = "consensus",
    quotes: int = QUOTES,
    case: str | None = None,
    transcript: str | int | None = None,
    policy: Policy | None = None,
    where: dict[str, str] | None = None,
) -> dict:
    """The matrix as the documented JSON shape (plus totals, labels and the exploratory tests).

    ``policy`` (default: the project owner, ``Policy.owner()``) decides which sources may be read and
    whose agreement ranks the quotes; raises ``NotFound``/``Forbidden`` for a source it does not allow,
    ``CoderError`` for a bad ``by``, an unknown case or transcript. ``by="attr:NAME"``: one row per
    value of attribute NAME (``coder.attributes.effective``), ``―`` (last) for segments without one.
    ``where`` ({attribute: value}) keeps only segments whose transcript has those values."""
    if by not in BY and not by.startswith(attributes.PREFIX):
        raise CoderError(f"--by must be one of {', '.join(BY)} or attr:NAME, not {by!r}")
    policy = policy or Policy.owner()
    source = policy.check_source(db, source)
    codes = codebook.ids  # core codes first, then further: the codebook's order
    units = layers.segments(db, text=False)
    if by not in BY:  # attr:NAME: rows are the values of each segment's transcript (or its case)
        attributes.check_name(db, by)
        attributes.label_units(db, units, by)
    if where:
        units = attributes.filter_units(db, units, where)
    people = policy.analysts(db)
    scope = _scope(db, units, people, source, case, transcript)
    field = FIELD.get(by, by)
    keys = (
        [p for p in ROWS if any(s[field] == p for s in scope.values())]
        if by == "perspective"
        else sorted({s[field] or "―" for s in scope.values()}, key=lambda k: (by not in BY and k == "―", k))
    )
    totals = {k: sum((s[field] or "―") == k for s in scope.values()) for k in keys}
    support = defaultdict(int)  # (segment, code) -> analysts who confirmed it (quote confidence)
    if source in ("consensus", "all") or source in people:
        values = layers.tensor(db, codes, people + [layers.CONSENSUS], units)
        agreeing = (values[:-1] == 1).sum(axis=0)  # nan == 1 is False: unseen counts as nobody
        for i, k in zip(*np.nonzero(agreeing)):
            support[(units[i]["id"], codes[k])] = int(agreeing[i, k])
    if source == "consensus":  # the final codes, from the tensor already loaded
        pairs = [(units[i]["id"], codes[k], "consensus") for i, k in zip(*np.nonzero(layers.final_codes(values)))]
    else:
        pairs = [(r["segment_id"], r["code"], r["coder"]) for r in layers.codings_for(db, source, codes)]
    members = {(k, c): {} for k in keys for c in codes}  # (row, code) -> {segment id: coder}, reading order
    for sid, code, who in pairs:
        unit = scope.get(sid)
        if unit is not None and (unit[field] or "―", code) in members:
            members[(unit[field] or "―", code)].setdefault(sid, who)
    scores = {
        (sid, code): score
        for sid, code, score in db.execute(  # the suggester's score where it suggested the code
            "select segment_id, code, score from suggestions where selected = 1"
        ).fetchall()
    }
    rank = _Ranker(db, scope, support, scores)
    out = {
        "by": by,
        "source": source,
        "source_label": layers.source_label(source),
        "unconfirmed": source == "model",
        "rows": keys,
        "codes": codes,
        "totals": totals,
        "cells": {},
        "where": dict(where or {}),
    }
    for key in keys:
        out["cells"][key] = {}
        for code in codes:
            hits = members[(key, code)]
            out["cells"][key][code] = {
                "segments": len(hits),
                "interviewees": len({(scope[s]["transcript_id"], scope[s]["speaker"]) for s in hits}),
                "share": len(hits) / totals[key] if totals[key] else 0.0,
                "quotes": rank.quotes(hits, code, quotes),
            }
    # a retired (or merged) code stays a column only while some cell still counts it
    out["codes"] = [
        c for c in codes if codebook.code(c).status == "active" or any(out["cells"][k][c]["segments"] for k in keys)
    ]
    out["tests"] = tests(out)
    return out


def _scope(db, units, people, source, case, transcript) -> dict[int, dict]:
    """Segments the source has looked at (the share's denominator), by id, with their row fields."""
    from . import db as store

    units = {u["id"]: u for u in units}
    if transcript is not None:
        tid = store.find_transcript(db, transcript)["id"]
        units = {i: u for i, u in units.items() if u["transcript_id"] == tid}
    if case is not None:
        cases = {u["case_name"] for u in units.values()}
        if case not in cases:
            raise NotFound(
                f"no case {case!r} in this project (have: {', '.join(sorted(cases - {None})) or 'none'})",
                ja=f"「{case}」という事例はこのプロジェクトにありません。",
            )
        units = {i: u for i, u in units.items() if u["case_name"] == case}
    if source == "model":
        seen = {sid for (sid,) in db.execute("select distinct segment_id from suggestions").fetchall()}
    else:
        names = list(people) if source in ("all", "consensus") else [source]
        names += ["consensus"] if source == "consensus" else []
        marks = ",".join("?" * len(names)) or "null"
        seen = {
            sid
            for (sid,) in db.execute(
                f"select segment_id from reviews where coder in ({marks}) union "
                f"select segment_id from codings where coder in ({marks})",
                [*names, *names],
            ).fetchall()
        }
    return {i: u for i, u in units.items() if i in seen}


def looked_at(db, source: str, policy: Policy | None = None) -> set[int]:
    """Ids of the interviewee segments ``source`` has looked at — finished or coded by its analysts (or,
    for ``model``, given suggestions): the segments a matrix of that source counts (its shares'
    denominator). ``policy`` as in ``build`` (it must allow the source)."""
    policy = policy or Policy.owner()
    source = policy.check_source(db, source)
    return set(_scope(db, layers.segments(db, text=False), policy.analysts(db), source, None, None))


class _Ranker:
    """Picks a cell's representative quotes; reads content words and texts only for candidates."""

    def __init__(self, db, scope, support, scores):
        self.db, self.scope, self.support, self.scores = db, scope, support, scores
        self.words, self.texts = {}, {}

    def _load(self, ids):
        from . import db as store

        for part in store.chunked(sorted(set(ids) - self.words.keys())):
            for sid, tokens, text in self.db.execute(
                f"select id, tokens, text from segments where id in ({store.marks(part)})", part
            ).fetchall():
                self.words[sid], self.texts[sid] = _content(tokens), text

    def quotes(self, hits: dict[int, str], code: str, n: int) -> list[dict]:
        """The top ``n``: most confident first; among the CANDIDATES most confident, the most central;
        no near-duplicates; segments under MIN_QUOTE_CHARS only when nothing else is left. Each quote:
        text, transcript (name), speaker, start, end (code points), segment_id, transcript_id, index (the
        segment's position, from 0), case, start_time (seconds), turn (its turn's position, from 1)."""
        if not hits or n <= 0:
            return []
        confidence = {
            s: round((who == "consensus") + self.support[(s, code)] + (self.scores.get((s, code)) or 0), 1)
            for s, who in hits.items()
        }
        short = {s: self.scope[s]["chars"] < MIN_QUOTE_CHARS for s in hits}
        pool = sorted(hits, key=lambda s: (short[s], -confidence[s], s))[:CANDIDATES]
        self._load(pool)
        central = dict(zip(pool, _centrality([self.words[s] for s in pool])))
        pool.sort(key=lambda s: (short[s], -confidence[s], -central[s], s))
        chosen = []
        for s in pool:
            mine = set(self.words[s])
            if any(
                self.texts[c] == self.texts[s] or _jaccard(mine, set(self.words[c])) >= NEAR_DUPLICATE for c in chosen
            ):
                continue
            chosen.append(s)
            if len(chosen) == n:
                break
        return [
            {
                "text": self.texts[s],
                "transcript": self.scope[s]["transcript"],
                "speaker": self.scope[s]["speaker"],
                "start": self.scope[s]["start"],
                "end": self.scope[s]["end"],
                "segment_id": s,
                "transcript_id": self.scope[s]["transcript_id"],
                "index": self.scope[s]["idx"],
                "case": self.scope[s]["case_name"],
                "start_time": self.scope[s]["start_time"],
                "turn": self.scope[s]["turn"],
            }
            for s in chosen
        ]


def _centrality(words: list[list[str]]) -> np.ndarray:
    """Cosine of each segment's TF-IDF vector to the centroid of the group."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not any(words):
        return np.zeros(len(words))
    X = TfidfVectorizer(analyzer=lambda w: w, sublinear_tf=True).fit_transform(words)
    centroid = np.asarray(X.mean(axis=0)).ravel()
    norm = np.linalg.norm(centroid)
    return np.asarray(X @ (centroid / norm)).ravel() if norm else np.zeros(len(words))


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
        out[code] = {
            "test": test,
            "chi2": float(chi2),
            "p": float(p),
            "residuals": {k: float(r) for k, r in zip(keys, residuals[:, 0])},
        }
    return out


def _row_label(matrix: dict, key: str) -> str:
    from .speakers import PERSPECTIVES

    return PERSPECTIVES.get(key, key) if matrix["by"] == "perspective" else key


def row_noun(by: str) -> str:
    """What a matrix row is, in Japanese: 立場, 事例, トランスクリプト or the attribute's name."""
    return {"perspective": "立場", "case": "事例", "transcript": "トランスクリプト"}.get(by, by.removeprefix("attr:"))


def empty_reason(db, matrix: dict, codebook) -> str | None:
    """Why ``matrix`` (from ``build``) counts no coded segment, as a hint for the user in English
    (the CLI's language) naming the command that helps; None when some cell is not empty. In order:
    nothing stored in the source (suggestions not computed yet, or nobody coded), coded segments only
    by speakers without a perspective (a perspective matrix has no row for them), or the filters."""
    if any(c["segments"] for row in matrix["cells"].values() for c in row.values()):
        return None
    source = matrix["source"]
    rows = layers.codings_for(db, source, codebook.ids)
    if not rows:
        if source == layers.MODEL:
            return "no suggestions are stored yet: run `coder suggest --db …` first"
        return (
            f"no segment is coded in source {source!r} yet: code in the web UI, or see the unconfirmed "
            "suggestions with --source model"
        )
    if matrix["by"] == "perspective":
        units = {u["id"]: u for u in layers.segments(db, text=False)}
        unmapped = {
            units[r["segment_id"]]["speaker"]
            for r in rows
            if r["segment_id"] in units and units[r["segment_id"]]["perspective"] not in ROWS
        }
        if unmapped:
            return (
                f"the coded segments are by speakers without a perspective ({', '.join(sorted(unmapped)[:5])}): "
                "map them with `coder speakers set NAME person|supporter|employer`, or see them with "
                "--by transcript"
            )
    return f"source {source!r} has codings, but none in this selection (case, transcript or attribute filter)"


def to_markdown(matrix: dict, codebook) -> str:
    """A report-style synthesis: the count table, then per code and row the quotes, and the cell's
    summary (author, date, text, linked segments) where ``matrix["summaries"]`` has one."""
    rows, lines, noun = matrix["rows"], [], row_noun(matrix["by"])
    lines.append(f"# {noun} × コード マトリクス（出典：{matrix['source_label']}）\n")
    if matrix.get("where"):
        lines.append("対象：" + "、".join(f"属性 {k}={v}" for k, v in matrix["where"].items()) + " のインタビュー\n")
    if matrix["unconfirmed"]:
        lines.append("> 注意：提案のみに基づく集計です。分析者による確認を経ていません。\n")
    if not rows:  # no row to count: a header-only table would be broken Markdown
        lines.append(f"（この出典で集計できる{noun}はありません。）\n")
        return "\n".join(lines)
    lines.append("| コード | " + " | ".join(f"{_row_label(matrix, k)}（{matrix['totals'][k]}）" for k in rows) + " |")
    lines.append("|---|" + "---|" * len(rows))
    for code in matrix["codes"]:
        cells = [matrix["cells"][k][code] for k in rows]
        lines.append(
            f"| {codebook.code(code).name} | "
            + " | ".join(f"{c['segments']}（{c['interviewees']}人、{c['share']:.0%}）" for c in cells)
            + " |"
        )
    lines.append(f"\n各セルは「セグメント数（話者数、その{noun}のセグメントに占める割合）」。\n")
    for code in matrix["codes"]:
        c = codebook.code(code)
        lines.append(f"## {c.name}（{c.name_en}）\n" if c.name_en else f"## {c.name}\n")
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
            summary = matrix.get("summaries", {}).get(key, {}).get(code)
            if summary:  # coder.summaries.for_matrix, attached by coder.export.run
                from .summaries import byline, refs_text

                lines.append(f"**要約**（{byline(summary)}）\n")
                lines += [f"> {line}".rstrip() for line in summary["text"].splitlines()]
                lines.append(f"\n根拠：{refs_text(summary)}\n" if summary.get("refs") else "")
        if test.get("p") is not None:
            marks = "、".join(f"{_row_label(matrix, k)} {r:+.2f}" for k, r in test["residuals"].items())
            name = "χ²検定" if test["test"] == "chi2" else "Fisherの正確確率検定"
            lines.append(f"探索的な参考値：{name} p = {test['p']:.3f}、調整済み標準化残差 {marks}\n")
    off = matrix.get("off_summaries") or []
    if off:  # summaries on rows this source did not code (coder.summaries.off_matrix)
        from .summaries import byline, refs_text

        lines.append("## この出典では集計されない行の要約\n")
        for summary in off:
            lines.append(f"### {_row_label(matrix, summary['row'])} × {codebook.code(summary['code']).name}\n")
            lines.append(f"**要約**（{byline(summary)}）\n")
            lines += [f"> {line}".rstrip() for line in summary["text"].splitlines()]
            lines.append(f"\n根拠：{refs_text(summary)}\n" if summary.get("refs") else "")
    return "\n".join(lines)


def to_csv(matrix: dict, codebook) -> str:
    """One line per cell: row, code, segments, interviewees, share, and the quotes joined by ' / '.
    Text cells are quoted against formula injection (``coder.export.cells``)."""
    import csv
    import io

    from .export.cells import spreadsheet_row

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [matrix["by"], "code", "code_name", "segments", "interviewees", "share", "row_segments", "residual", "quotes"]
    )
    for key in matrix["rows"]:
        for code in matrix["codes"]:
            cell = matrix["cells"][key][code]
            residual = matrix["tests"].get(code, {}).get("residuals", {}).get(key)
            writer.writerow(
                spreadsheet_row(
                    [
                        key,
                        code,
                        codebook.code(code).name,
                        cell["segments"],
                        cell["interviewees"],
                        round(cell["share"], 4),
                        matrix["totals"][key],
                        "" if residual is None else round(residual, 3),
                        " / ".join(q["text"] for q in cell["quotes"]),
                    ]
                )
            )
    return buffer.getvalue()

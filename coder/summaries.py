"""Cell summaries: an analyst's own words for one cell of the matrix (framework analysis "charting").

A summary belongs to a matrix cell: ``grouping`` (how the rows are made: ``perspective``, ``case``,
``transcript`` or ``attr:NAME``), ``row`` (a perspective id such as ``supporter``, a case name, a
transcript name, or an attribute value — ``―`` for the segments without one) and ``code`` (a codebook
id). There is one summary per cell, shared by the team: whoever may write replaces it, ``author`` is
the last editor, and the history (old and new text) is in ``events`` (``summary_set``,
``summary_deleted``), written in the same transaction as the change.

A summary does not depend on the coding source: the same text shows whether the matrix counts the
final codes, one analyst's codes or the model's suggestions. It is synthesis, not coding, so blind
mode does not hide it (the quotes beside it stay governed by ``coder.access``). ``segments`` are the
ids of the segments the summary rests on (the quotes the analyst ticked as its evidence); they stay
linked even when the cell no longer holds them under the source being shown.

Rows are stored by name: after a case or transcript is renamed, or an attribute value changed, the
summary stays on the old row — ``list_summaries`` still has it, the matrix no longer shows it.
"""

from __future__ import annotations

import json

from . import attributes
from . import db as store
from .errors import CoderError, NotFound
from .speakers import PERSPECTIVES

GROUPINGS = ("perspective", "case", "transcript")
MAX_CHARS = 20_000  # as a memo: a long synthesis is welcome, a pasted transcript is not
SET, DELETED = "summary_set", "summary_deleted"  # events.action of a change


def rows_of(db, grouping: str) -> list[str]:
    """The rows a summary may be written for under ``grouping``: perspective ids, the project's cases,
    its transcript names, or the values of attribute ``attr:NAME`` in use and ``―``. ``CoderError``
    for another grouping, ``NotFound`` for an attribute no value has."""
    if grouping == "perspective":
        return list(PERSPECTIVES)
    if grouping == "case":
        return store.list_cases(db)
    if grouping == "transcript":
        return [r[0] for r in db.execute("select name from transcripts order by name").fetchall()]
    if not grouping.startswith(attributes.PREFIX):
        raise CoderError(
            f"a summary's grouping is one of {', '.join(GROUPINGS)} or attr:NAME, not {grouping!r}",
            ja=f"要約の単位は立場・事例・トランスクリプト・属性（attr:名前）のいずれかです（「{grouping}」は使えません）",
        )
    name = attributes.check_name(db, grouping)
    values = db.execute(
        "select distinct value from attributes where name = ? and value is not null and value != '' order by value",
        [name],
    ).fetchall()
    return [v for (v,) in values] + [attributes.NONE]


def check_cell(db, grouping: str, row: str, code: str, codebook=None) -> None:
    """``CoderError`` for a grouping or (with ``codebook``) a code that does not exist, ``NotFound`` for a
    row the project does not have under that grouping (or an attribute name no value has)."""
    rows = rows_of(db, grouping)
    if row not in rows:
        shown = ", ".join(rows[:20]) + (" …" if len(rows) > 20 else "")
        raise NotFound(
            f"no row {row!r} for grouping {grouping} in this project (have: {shown or 'none'})",
            ja=f"マトリクスの行「{row}」はこのプロジェクトにありません"
            f"（あるもの：{shown.replace(', ', '、') or 'なし'}）",
        )
    if codebook is not None and code not in codebook.ids:
        raise CoderError(
            f"unknown code {code!r} (codebook {codebook.version_tag})",
            ja=f"コード「{code}」はコードブック（{codebook.version_tag}）にありません",
        )


def _segment_ids(db, ids) -> list[int]:
    """The distinct ids, sorted; ``NotFound`` naming those the project does not have."""
    ids = sorted({int(i) for i in ids})
    have = {
        r[0]
        for r in db.execute(
            "select id from segments where id in (select value from json_each(?))", [json.dumps(ids)]
        ).fetchall()
    }
    missing = [i for i in ids if i not in have]
    if missing:
        raise NotFound(
            f"no segment {', '.join(map(str, missing))} in this project (see `coder segments`)",
            ja=f"セグメント {'、'.join(map(str, missing))} はこのプロジェクトにありません"
            "（削除されたか、差し替えでなくなった可能性があります）",
        )
    return ids


def _row(r: dict | None) -> dict | None:
    return None if r is None else {**r, "segments": json.loads(r["segments"] or "[]")}


def get_summary(db, grouping: str, row: str, code: str) -> dict | None:
    """The summary of one cell: {id, grouping, row, code, text, segments (list of ids), author,
    created_at, updated_at (ISO times)}, or None."""
    found = list(db.query("select * from summaries where grouping = ? and row = ? and code = ?", [grouping, row, code]))
    return _row(found[0] if found else None)


def set_summary(
    db,
    grouping: str,
    row: str,
    code: str,
    text: str,
    *,
    user: str,
    segment_ids: list[int] | None = None,
    codebook=None,
    created_at: str | None = None,
) -> dict | None:
    """Write (or replace) the summary of cell (``grouping``, ``row``, ``code``) as ``user``; return it.

    Empty or blank ``text`` deletes the summary (None is returned, also when there was none).
    ``segment_ids``: the segments it rests on (replacing the old links; None keeps them). Raises
    ``CoderError`` for an unknown grouping, a code not in ``codebook`` (when given) or a text over
    ``MAX_CHARS`` code points, ``NotFound`` for a row the grouping does not have or an unknown segment.
    ``created_at`` keeps the date of an imported summary. An unchanged text and links write nothing."""
    text = (text or "").strip()
    if len(text) > MAX_CHARS:
        raise CoderError(
            f"a summary holds at most {MAX_CHARS:,} characters (this one has {len(text):,})",
            ja=f"要約は {MAX_CHARS:,} 字までです（この要約は {len(text):,} 字あります）",
        )
    with store.immediate(db):
        old, at = get_summary(db, grouping, row, code), store.now()
        if not text:
            if old is not None:
                db.execute("delete from summaries where id = ?", [old["id"]])
                _log(db, at, user, DELETED, grouping, row, code, old["text"], None, old["segments"])
            return None
        check_cell(db, grouping, row, code, codebook)
        ids = _segment_ids(db, segment_ids) if segment_ids is not None else (old or {}).get("segments", [])
        if old is not None and (old["text"], old["segments"]) == (text, ids):
            return old
        values = {"text": text, "segments": json.dumps(ids), "author": user, "updated_at": created_at or at}
        if old is None:
            db["summaries"].insert(
                {"grouping": grouping, "row": row, "code": code, "created_at": created_at or at, **values}
            )
        else:
            db["summaries"].update(old["id"], values)
        _log(db, at, user, SET, grouping, row, code, old and old["text"], text, ids)
    return get_summary(db, grouping, row, code)


def _log(db, at, user, action, grouping, row, code, old, new, segments) -> None:
    detail = {"grouping": grouping, "row": row, "code": code, "old": old, "new": new, "segments": segments}
    store.log_event(db, at, user, action, detail, code=code)


def list_summaries(db, grouping: str | None = None) -> list[dict]:
    """Every summary (of one grouping, if given), as ``get_summary`` returns them, by grouping, row, code."""
    where, params = ("where grouping = ?", [grouping]) if grouping else ("", [])
    return [_row(r) for r in db.query(f"select * from summaries {where} order by grouping, row, code", params)]


def evidence(db, segment_ids: list[int]) -> list[dict]:
    """The segments of ``segment_ids`` that exist, in reading order, shaped like the matrix's quotes:
    segment_id, text, transcript (name), transcript_id, index, case, speaker, start, end (code points),
    start_time (seconds or None), turn (the position of the segment's turn in its transcript, from 1)."""
    return list(
        db.query(
            """
        select id as segment_id, text, transcript, transcript_id, idx as "index", case_name as "case", speaker,
               start, [end], start_time, turn_idx + 1 as turn
        from segment_details where id in (select value from json_each(?))
        order by transcript_id, idx""",
            [json.dumps(list(segment_ids))],
        )
    )


def for_matrix(db, matrix: dict) -> dict[str, dict[str, dict]]:
    """The summaries of a ``coder.matrix.build()`` dict's cells: {row: {code: summary}}, only for its
    grouping (``by``), rows and codes; each summary (see ``get_summary``) also has ``refs``: its
    linked segments that still exist, as ``evidence`` gives them."""
    rows, codes, out = set(matrix["rows"]), set(matrix["codes"]), {}
    for s in list_summaries(db, matrix["by"]):
        if s["row"] in rows and s["code"] in codes:
            out.setdefault(s["row"], {})[s["code"]] = {**s, "refs": evidence(db, s["segments"])}
    return out


def off_matrix(db, matrix: dict) -> list[dict]:
    """Summaries of the matrix's grouping and codes on rows the matrix does not show (its source coded
    nothing there — e.g. a summary of the employers' view written while looking at the model's
    suggestions), each with ``refs`` like ``for_matrix``; none when the matrix is limited to some
    interviews (``where``), since its rows then say nothing about the others."""
    if matrix.get("where"):
        return []
    rows, codes = set(matrix["rows"]), set(matrix["codes"])
    return [
        {**s, "refs": evidence(db, s["segments"])}
        for s in list_summaries(db, matrix["by"])
        if s["row"] not in rows and s["code"] in codes
    ]


def with_evidence(db, summary: dict | None, quotes: list[dict]) -> tuple[list[dict], list[dict]]:
    """A cell's quotes with those ``summary`` rests on first (each quote gets ``evidence``: True/False),
    and the linked segments that are not among the quotes (from ``evidence``, marked the same way)."""
    linked = set(summary["segments"]) if summary else set()
    shown = sorted(({**q, "evidence": q["segment_id"] in linked} for q in quotes), key=lambda q: not q["evidence"])
    rest = [{**q, "evidence": True} for q in evidence(db, sorted(linked - {q["segment_id"] for q in quotes}))]
    return shown, rest


def refs_text(summary: dict, width: int = 24) -> str:
    """The linked segments of a ``for_matrix`` summary, for readers without the tool: the start of
    each quote with where it is, ``「最初の面談でアセスメントシート…」（kaede_person・本人・00:01:34）、…``
    (the time when the transcript has one; ``width`` characters of text at most)."""
    from .db import hhmmss

    def one(r):
        text = r["text"] if len(r["text"]) <= width else r["text"][: width - 1] + "…"
        where = [r["transcript"], r["speaker"]] + ([hhmmss(r["start_time"])] if r.get("start_time") is not None else [])
        return f"「{text}」（{'・'.join(where)}）"

    return "、".join(one(r) for r in summary.get("refs", []))


def byline(summary: dict) -> str:
    """Who wrote a summary last, and when (a date): ``hanako・2024-05-01``."""
    return f"{summary['author']}・{(summary['updated_at'] or summary['created_at'] or '')[:10]}"


def to_markdown(rows: list[dict], codebook, db=None) -> str:
    """Summaries (``list_summaries`` rows) as a Markdown report: one section per grouping, one
    subsection per cell (row × code name) with its author, date, text and linked segments (with
    ``db``: the start of each quote and where it is, as ``refs_text``; else their ids)."""
    from .matrix import row_noun

    lines = ["# セルの要約", ""]
    if not rows:
        lines.append("要約はまだありません。")
    for grouping in sorted({r["grouping"] for r in rows}, key=lambda g: (g not in GROUPINGS, g)):
        lines += [f"## {row_noun(grouping)} × コード", ""]
        for r in (r for r in rows if r["grouping"] == grouping):
            label = PERSPECTIVES.get(r["row"], r["row"]) if grouping == "perspective" else r["row"]
            name = codebook.code(r["code"]).name if codebook is not None and r["code"] in codebook.ids else r["code"]
            lines += [f"### {label} × {name}", "", byline(r), "", r["text"], ""]
            if r["segments"] and db is not None:
                lines += ["根拠：" + refs_text({"refs": evidence(db, r["segments"])}), ""]
            elif r["segments"]:
                lines += ["根拠のセグメント：" + "、".join(map(str, r["segments"])), ""]
    return "\n".join(lines).rstrip("\n") + "\n"

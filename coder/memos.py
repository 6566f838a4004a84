"""Memos: dated notes by a user on a code, a segment, a transcript, a case or the project.

``memos.kind`` says what a memo is about (migration 0009):

- ``code`` — a codebook clarification, written by a supervisor (often from a disagreement, so it
  may name a segment too); everyone sees it on the codebook page.
- ``segment`` — an analyst's note on a segment (``segment_id``; ``transcript_id`` is filled in too).
  In blind mode only its author and supervisors see it (``Policy.sees_others``): a note on a segment
  often says how it was coded.
- ``transcript``, ``case``, ``project`` — notes on an interview (``transcript_id``), a case
  (``case_name``) or the whole project; everyone sees them.

Only the author edits or deletes a memo. Every change writes an ``events`` row (``memo_added``,
``memo_edited``, ``memo_deleted``; detail: memo id, kind, text) in the same transaction. Readers ask
``visible()`` with the user's ``coder.access.Policy``, so no view or export decides blind mode alone.
"""

from __future__ import annotations

import json

from . import db as store
from .errors import CoderError, Forbidden, NotFound

KINDS = ("code", "segment", "transcript", "case", "project")
KIND_LABELS = {
    "code": "コード",
    "segment": "セグメント",
    "transcript": "トランスクリプト",
    "case": "事例",
    "project": "プロジェクト",
}
MAX_CHARS = 20_000  # a long note is welcome; a pasted transcript is not a memo


def _text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise CoderError("a memo needs some text", ja="メモの本文を入力してください")
    if len(text) > MAX_CHARS:
        raise CoderError(
            f"a memo holds at most {MAX_CHARS:,} characters (this one has {len(text):,})",
            ja=f"メモは {MAX_CHARS:,} 字までです（このメモは {len(text):,} 字あります）",
        )
    return text


def _log(db, at: str, user: str, action: str, memo: dict, **detail) -> None:
    detail = {
        "memo_id": memo["id"],
        "kind": memo["kind"],
        "transcript_id": memo["transcript_id"],
        "case": memo["case_name"],
        **detail,
    }
    store.log_event(db, at, user, action, detail, memo["segment_id"], memo["code"])


def _insert(db, row: dict, created_at: str | None = None) -> dict:
    at = store.now()
    row = {
        "code": None,
        "segment_id": None,
        "transcript_id": None,
        "case_name": None,
        **row,
        "created_at": created_at or at,
        "updated_at": None,
    }
    with store.immediate(db):
        pk = db["memos"].insert(row).last_pk
        memo = db["memos"].get(pk)
        _log(db, at, row["author"], "memo_added", memo, text=memo["text"])
    return memo


def add_memo(
    db,
    code: str,
    author: str,
    text: str,
    codebook,
    segment_id: int | None = None,
    *,
    created_at: str | None = None,
    once: bool = False,
) -> dict | None:
    """A codebook clarification (kind ``code``) on ``code``, optionally naming the segment it came from.
    ``created_at`` keeps the date of an imported note; ``once``: None, and nothing written, if the author
    has a clarification with this text on this code already (importing a file again)."""
    if code not in codebook.ids:
        raise CoderError(
            f"unknown code {code!r} (codebook {codebook.version_tag})",
            ja=f"コード「{code}」はコードブック（{codebook.version_tag}）にありません",
        )
    text = _text(text)
    if segment_id is not None:
        store.transcript_of(db, segment_id)  # NotFound for a segment the project does not have
    if (
        once
        and db.execute(
            "select 1 from memos where kind = 'code' and code = ? and author = ? and text = ?", [code, author, text]
        ).fetchone()
    ):
        return None
    return _insert(
        db, {"kind": "code", "code": code, "segment_id": segment_id, "author": author, "text": text}, created_at
    )


def add(
    db,
    author: str,
    text: str,
    *,
    segment_id: int | None = None,
    transcript: str | int | None = None,
    case: str | None = None,
    project: bool = False,
    created_at: str | None = None,
    once: bool = False,
) -> dict | None:
    """A memo by ``author`` on exactly one of a segment, a transcript (id or name), a case or the
    project; returns the stored row. ``NotFound`` for a segment, transcript or case the project does
    not have; ``created_at`` keeps the date of an imported note; ``once``: None, and nothing
    written, if the author has a memo with this text on this target already (importing a file again)."""
    targets = [t for t in (segment_id, transcript, case) if t is not None] + ([True] if project else [])
    if len(targets) != 1:
        raise CoderError(
            "a memo is on exactly one of: a segment, a transcript, a case or the project",
            ja="メモの対象は、セグメント・トランスクリプト・事例・プロジェクト全体のどれか1つです",
        )
    row = {"author": author, "text": _text(text)}
    if segment_id is not None:
        row.update(kind="segment", segment_id=segment_id, transcript_id=store.transcript_of(db, segment_id))
    elif transcript is not None:
        row.update(kind="transcript", transcript_id=store.find_transcript(db, transcript)["id"])
    elif case is not None:
        if case not in store.list_cases(db):
            raise NotFound(f"no case {case!r} in this project", ja=f"事例「{case}」はこのプロジェクトにありません")
        row.update(kind="case", case_name=case)
    else:
        row.update(kind="project")
    if (
        once
        and db.execute(
            """select 1 from memos where kind = ? and author = ? and text = ? and segment_id is ?
                              and transcript_id is ? and case_name is ?""",
            [row["kind"], author, row["text"], row.get("segment_id"), row.get("transcript_id"), row.get("case_name")],
        ).fetchone()
    ):
        return None
    return _insert(db, row, created_at)


def _own(db, memo_id: int, user: str) -> dict:
    rows = list(db.query("select * from memos where id = ?", [memo_id]))
    if not rows:
        raise NotFound(
            f"no memo {memo_id} in this project",
            ja=f"メモ {memo_id} は見つかりません（すでに削除された可能性があります）",
        )
    memo = rows[0]
    if memo["author"] != user:
        raise Forbidden(
            f"memo {memo_id} is {memo['author']}'s; only its author may change it",
            ja=f"このメモは {memo['author']} さんのメモです。変更・削除できるのは書いた本人だけです",
        )
    return memo


def edit(db, memo_id: int, user: str, text: str) -> dict:
    """Replace the text of ``user``'s own memo; returns the new row (``Forbidden`` for someone else's)."""
    text = _text(text)
    with store.immediate(db):
        memo = _own(db, memo_id, user)
        at = store.now()
        db.execute("update memos set text = ?, updated_at = ? where id = ?", [text, at, memo_id])
        _log(db, at, user, "memo_edited", memo, old=memo["text"], new=text)
    return db["memos"].get(memo_id)


def delete(db, memo_id: int, user: str) -> dict:
    """Delete ``user``'s own memo (its text stays in the event log); returns the deleted row."""
    with store.immediate(db):
        memo = _own(db, memo_id, user)
        db.execute("delete from memos where id = ?", [memo_id])
        _log(db, store.now(), user, "memo_deleted", memo, text=memo["text"])
    return memo


def list_memos(db, code: str | None = None) -> list[dict]:
    """Codebook clarifications (kind ``code``), of one code or all, newest first."""
    where, params = ("and code = ?", [code]) if code else ("", [])
    return list(db.query(f"select * from memos where kind = 'code' {where} order by created_at desc, id desc", params))


def visible(
    db,
    policy,
    *,
    author: str | None = None,
    kind: str | None = None,
    code: str | None = None,
    transcript: str | int | None = None,
    case: str | None = None,
    segment_ids: list[int] | None = None,
    where: dict[str, str] | None = None,
) -> list[dict]:
    """Memos ``policy`` (a ``coder.access.Policy``) may see, oldest first, with what they are on:
    ``transcript`` (name), ``case_name`` (the memo's, or its transcript's), ``segment_text`` and, for a
    segment memo, where the segment is: ``speaker``, ``turn`` (its turn's position in the transcript, from
    1) and ``start_time`` (seconds or None). Filters: author, kind, code, transcript (id or name; also the
    segment memos in it), case (also memos on its transcripts and their segments), segment ids, and
    ``where`` ({attribute: value}:
    memos on the transcripts with those values, their segments and their cases; ``NotFound`` for an
    attribute name no value has). In blind mode an analyst sees only their own segment memos."""
    if kind is not None and kind not in KINDS:
        raise CoderError(
            f"unknown memo kind {kind!r} (choose one of: {', '.join(KINDS)})",
            ja=f"メモの種類「{kind}」はありません（{'・'.join(KIND_LABELS.values())} から選んでください）",
        )
    clauses, params = [], []
    if not policy.sees_others:
        clauses.append("(m.kind != 'segment' or m.author = ?)")
        params.append(policy.user)
    for column, value in (
        ("m.author", author),
        ("m.kind", kind),
        ("m.code", code),
        ("coalesce(m.case_name, t.case_name)", case),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if transcript is not None:
        clauses.append("m.transcript_id = ?")
        params.append(store.find_transcript(db, transcript)["id"])
    if segment_ids is not None:
        clauses.append("m.segment_id in (select value from json_each(?))")
        params.append(json.dumps(list(segment_ids)))
    if where:
        from .attributes import transcripts_where

        keep = transcripts_where(db, where)
        cases = {r["case_name"] for r in db.query("select id, case_name from transcripts") if r["id"] in keep} - {None}
        clauses.append(
            "(t.id in (select value from json_each(?))"
            " or (m.kind = 'case' and m.case_name in (select value from json_each(?))))"
        )
        params += [json.dumps(sorted(keep)), json.dumps(sorted(cases))]
    return list(
        db.query(
            f"""
        select m.id, m.kind, m.author, m.created_at, m.updated_at, m.text, m.code, m.segment_id, m.transcript_id,
               t.name as transcript, coalesce(m.case_name, t.case_name) as case_name, s.text as segment_text,
               s.idx as segment_index, sp.name as speaker, u.idx + 1 as turn, s.start_time
        from memos m left join segments s on s.id = m.segment_id
        left join turns u on u.id = s.turn_id left join speakers sp on sp.id = u.speaker_id
        left join transcripts t on t.id = coalesce(m.transcript_id, s.transcript_id)
        {"where " + " and ".join(clauses) if clauses else ""}
        order by m.created_at, m.id""",
            params,
        )
    )


def by_segment(db, policy, segment_ids: list[int]) -> dict[int, list[dict]]:
    """The segment memos ``policy`` may see on each of ``segment_ids`` (only segments that have one)."""
    out: dict[int, list[dict]] = {}
    for m in visible(db, policy, kind="segment", segment_ids=segment_ids):
        out.setdefault(m["segment_id"], []).append(m)
    return out


def as_markdown(memos: list[dict], title: str = "メモ") -> str:
    """Memos as a Markdown report: one section per kind, each memo with its author, date and target."""
    lines = [f"# {title}", ""]
    if not memos:
        lines.append("メモはありません。")
    for kind in KINDS:
        mine = [m for m in memos if m["kind"] == kind]
        if not mine:
            continue
        lines += [f"## {KIND_LABELS[kind]}のメモ（{len(mine)} 件）", ""]
        for m in mine:
            lines += [
                f"### {target(m)}",
                "",
                f"{m['author']}・{m['created_at'][:10]}"
                + (f"（{m['updated_at'][:10]} 更新）" if m["updated_at"] else ""),
                "",
                m["text"],
                "",
            ]
    return "\n".join(lines).rstrip("\n") + "\n"


def target(m: dict) -> str:
    """What a memo is on, in Japanese (「…」 quotes a segment's first 40 characters)."""
    if m["kind"] == "segment":
        text = m["segment_text"] or ""
        return f"{m['transcript']}：「{text[:40]}{'…' if len(text) > 40 else ''}」"
    if m["kind"] == "transcript":
        return f"トランスクリプト {m['transcript']}"
    if m["kind"] == "case":
        return f"事例 {m['case_name']}"
    if m["kind"] == "code":
        return f"コード {m['code']}"
    return "プロジェクト全体"

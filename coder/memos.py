"""Codebook clarifications: dated notes by a supervisor on a code, often from a disagreement."""

from __future__ import annotations

from . import db as store
from .errors import CoderError


def add_memo(db, code: str, author: str, text: str, codebook, segment_id: int | None = None) -> dict:
    if code not in codebook.ids:
        raise CoderError(f"unknown code {code!r} (codebook {codebook.version_tag})")
    if not text.strip():
        raise CoderError("a memo needs some text")
    if segment_id is not None:
        store.transcript_of(db, segment_id)  # NotFound for a segment the project does not have
    with store.immediate(db):
        pk = db["memos"].insert({"code": code, "segment_id": segment_id, "author": author, "created_at": store.now(),
                                 "text": text.strip()}).last_pk
    return db["memos"].get(pk)


def list_memos(db, code: str | None = None) -> list[dict]:
    where, params = ("where code = ?", [code]) if code else ("", [])
    return list(db.query(f"select * from memos {where} order by created_at desc, id desc", params))

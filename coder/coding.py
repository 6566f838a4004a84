"""Coding decisions per analyst: what a coder sees on a segment and what each action changes.

Every analyst has their own codings (``codings.coder``), so two analysts on one segment produce two
independent codings. A coding is ``confirmed`` (the code applies) or ``rejected`` (a suggestion the
analyst turned down); removing a code deletes the row. "Confirm and next" writes a review row: the
segment is finished for that analyst and every code they did not confirm is absent for them.
Every change is logged in ``events`` (who, when, segment, code, action, the suggestion it came from)
in the same transaction as the change; ``undo`` reads those events to take an analyst's last action back.
"""

from __future__ import annotations

import json
import secrets

from . import db as store
from .errors import CoderError, NotFound
from .types import SegmentState, UndoneState

ACTIONS = ("confirm", "reject", "remove", "toggle", "accept", "review", "reopen")
NEAR_MISS = 0.1  # reasons are also shown for codes scoring within this of their threshold


def _segment_rows(db, where: str, params: list) -> list[dict]:
    """Interviewee segments (``db.py``'s view ``interviewee_segments``, alias ``s``) matching ``where``,
    in reading order; ``turn`` is the 0-based index of the segment's turn."""
    return list(
        db.query(
            f"""
        select s.id, s.transcript_id, s.idx, s.text, s.start, s.[end], s.start_time, s.turn_idx as turn,
               s.speaker, s.perspective
        from interviewee_segments s where {where} order by s.transcript_id, s.idx""",
            params,
        )
    )


def states(
    db,
    coder: str,
    transcript_id: int | None = None,
    segment_ids: list[int] | None = None,
    show_others: bool = True,
    show_suggestions: bool = True,
) -> list[SegmentState]:
    """Each interviewee segment as the coding view shows it to ``coder``.

    ``suggested``: codes above their threshold; ``scores``: every scored code; ``reasons``: for
    suggested codes and near misses (within NEAR_MISS of the threshold); ``mine``: {code: confirmed|rejected};
    ``others``: {coder: [confirmed codes]} (empty when ``show_others`` is off, i.e. blind mode).
    """
    if segment_ids is not None:
        rows = _segment_rows(db, "s.id in (select value from json_each(?))", [store.json_ids(segment_ids)])
    else:
        rows = _segment_rows(db, "s.transcript_id = ?", [transcript_id])
    by_id = {
        r["id"]: {
            **r,
            "suggested": [],
            "scores": {},
            "reasons": {},
            "uncertainty": 0.0,
            "mine": {},
            "reviewed": False,
            "others": {},
        }
        for r in rows
    }
    for part in store.chunked(by_id):
        marks = store.marks(part)
        for r in db.query(
            f"select segment_id, code, score, threshold, selected, reasons from suggestions "
            f"where segment_id in ({marks}) and ?",
            [*part, show_suggestions],
        ):
            s = by_id[r["segment_id"]]
            s["scores"][r["code"]] = round(r["score"], 3)
            s["uncertainty"] = max(s["uncertainty"], uncertainty([r["score"]], [r["threshold"]]))  # see below
            if r["selected"]:
                s["suggested"].append(r["code"])
            if r["selected"] or r["score"] >= r["threshold"] - NEAR_MISS:
                s["reasons"][r["code"]] = json.loads(r["reasons"] or "[]")
        for r in db.query(f"select segment_id, code, coder, status from codings where segment_id in ({marks})", part):
            s = by_id[r["segment_id"]]
            if r["coder"] == coder:
                s["mine"][r["code"]] = r["status"]
            elif show_others and r["status"] == "confirmed":
                s["others"].setdefault(r["coder"], []).append(r["code"])
        for r in db.query(
            f"select segment_id from reviews where coder = ? and segment_id in ({marks})", [coder, *part]
        ):
            by_id[r["segment_id"]]["reviewed"] = True
    return list(by_id.values())


def _suggestion(db, segment_id: int, code: str) -> dict | None:
    rows = list(
        db.query(
            "select score, threshold, selected, suggesters from suggestions where segment_id = ? and code = ?",
            [segment_id, code],
        )
    )
    if not rows or not rows[0]["selected"]:
        return None
    r = rows[0]
    return {"score": round(r["score"], 4), "threshold": round(r["threshold"], 4), "suggesters": r["suggesters"]}


def _log(db, at, user, action, segment_id, code, version, suggestion=None, layer=None, **extra):
    detail = {"codebook_version": version, "suggestion": suggestion, **extra}
    if layer and layer != user:
        detail["layer"] = layer  # e.g. a supervisor writing the consensus layer
    store.log_event(db, at, user, action, detail, segment_id, code)


def _upsert(db, at, segment_id, code, coder, status, version):
    db.execute(
        """insert into codings (segment_id, code, coder, status, codebook_version, created_at, updated_at)
                  values (?, ?, ?, ?, ?, ?, ?)
                  on conflict(segment_id, code, coder) do update set status = excluded.status,
                  codebook_version = excluded.codebook_version, updated_at = excluded.updated_at""",
        [segment_id, code, coder, status, version, at, at],
    )


def _set(db, at, segment_id, code, coder, status, version, actor=None, **extra):
    _upsert(db, at, segment_id, code, coder, status, version)
    _log(db, at, actor or coder, status, segment_id, code, version, _suggestion(db, segment_id, code), coder, **extra)


def record_imported(
    db, at, coder: str, version: str, codings: list[tuple[int, str]], reviewed: list[int], **detail
) -> None:
    """Store one coder's confirmed codings ``(segment_id, code)`` and finished segments brought in from
    another tool (REFI-QDA import), each coding logged as ``imported``, in the caller's transaction."""
    for segment_id, code in codings:
        _upsert(db, at, segment_id, code, coder, "confirmed", version)
        _log(db, at, coder, "imported", segment_id, code, version, **detail)
    for segment_id in reviewed:
        db.execute(
            "insert or ignore into reviews (segment_id, coder, reviewed_at) values (?, ?, ?)", [segment_id, coder, at]
        )
    if reviewed:
        _log(db, at, coder, "imported-reviews", None, None, version, segments=len(reviewed), **detail)


def log_event(db, at, user: str, action: str, code: str | None, version: str, **detail) -> None:
    """Log a change that is not one segment's coding (e.g. a codebook edit), in the caller's transaction."""
    _log(db, at, user, action, None, code, version, **detail)


def repoint(db, at, user: str, old: str, new: str, version: str, action: str = "recoded") -> int:
    """Move every coding of code ``old`` to code ``new`` (a merge, or a promoted user code), per coder,
    in the caller's transaction; one event per changed coding (``from``, the coder's ``layer``). Where a
    coder already has ``new`` on the segment the two become one: confirmed wins over rejected.
    Returns how many codings changed."""
    rows = list(
        db.query(
            """select f.segment_id, f.coder, f.status, t.status as existing from codings f
                            left join codings t on t.segment_id = f.segment_id and t.coder = f.coder
                            and t.code = ? where f.code = ?""",
            [new, old],
        )
    )
    for r in rows:
        if r["existing"] is None:
            db.execute(
                "update codings set code = ?, codebook_version = ?, updated_at = ? "
                "where segment_id = ? and coder = ? and code = ?",
                [new, version, at, r["segment_id"], r["coder"], old],
            )
        else:
            db.execute(
                "delete from codings where segment_id = ? and coder = ? and code = ?",
                [r["segment_id"], r["coder"], old],
            )
            if r["status"] == "confirmed" and r["existing"] != "confirmed":
                _upsert(db, at, r["segment_id"], new, r["coder"], "confirmed", version)
        status = "confirmed" if "confirmed" in (r["status"], r["existing"]) else r["status"]
        _log(
            db,
            at,
            user,
            action,
            r["segment_id"],
            new,
            version,
            layer=r["coder"],
            **{"from": old, "status": status, "joined": r["existing"] is not None},
        )
    return len(rows)


def _remove(db, at, segment_id, code, coder, version, actor=None, **extra):
    if db.execute(
        "delete from codings where segment_id = ? and code = ? and coder = ?", [segment_id, code, coder]
    ).rowcount:
        _log(
            db,
            at,
            actor or coder,
            "removed",
            segment_id,
            code,
            version,
            _suggestion(db, segment_id, code),
            coder,
            **extra,
        )


def apply(
    db, segment_id: int, coder: str, action: str, codebook, code: str | None = None, recode: bool = False
) -> SegmentState:
    """Apply one analyst action to a segment, atomically with its audit events; return the new state.

    confirm / reject / remove / toggle take a ``code``; ``accept`` confirms every suggested code the
    analyst has not rejected; ``review`` ("confirm and next") rejects the suggested codes left
    undecided and marks the segment finished; ``reopen`` unmarks it. ``recode`` (re-coding a sample on a
    ``NAME:recode`` layer) ignores suggestions: nothing is accepted or rejected on their account, and
    they are not returned.

    Each event of the action carries ``act`` (one token per call: what ``undo`` takes back together),
    ``step`` (the action asked for) and ``was`` (the coding's status, or the review's time, before).
    """
    if action not in ACTIONS:
        raise CoderError(f"unknown action {action!r} ({', '.join(ACTIONS)})")
    if action in ("confirm", "reject", "remove", "toggle") and code not in codebook.ids:
        raise CoderError(f"unknown code {code!r} (codebook {codebook.version_tag}: {', '.join(codebook.ids)})")
    version, at = codebook.version_tag, store.now()
    step = {"act": secrets.token_hex(8), "step": action}
    with store.immediate(db):
        if not _segment_rows(db, "s.id = ?", [segment_id]):
            raise NotFound(f"no segment {segment_id} to code (unknown, or an interviewer turn)")
        reviewed = db.execute(
            "select reviewed_at from reviews where segment_id = ? and coder = ?", [segment_id, coder]
        ).fetchone()
        mine = {
            r["code"]: r["status"]
            for r in db.query(
                "select code, status from codings where segment_id = ? and coder = ?", [segment_id, coder]
            )
        }
        offered = {c.id for c in codebook.active}  # a retired code stays on past codings, is not applied anew
        suggested = (
            []
            if recode
            else [
                r["code"]
                for r in db.query("select code from suggestions where segment_id = ? and selected = 1", [segment_id])
                if r["code"] in offered
            ]
        )
        if action == "toggle":
            if mine.get(code) == "confirmed":
                action = "reject" if code in suggested else "remove"
            else:
                action = "confirm"
        if action in ("confirm", "reject") and code not in offered:
            raise CoderError(f"code {code!r} is retired: it stays on past codings but is not applied anew")
        if action in ("confirm", "reject"):
            _set(
                db,
                at,
                segment_id,
                code,
                coder,
                {"confirm": "confirmed", "reject": "rejected"}[action],
                version,
                was=mine.get(code),
                **step,
            )
        elif action == "remove":
            _remove(db, at, segment_id, code, coder, version, was=mine.get(code), **step)
        elif action == "accept":
            for c in suggested:
                if c not in mine:
                    _set(db, at, segment_id, c, coder, "confirmed", version, was=None, **step)
        elif action == "review":
            for c in suggested:
                if c not in mine:
                    _set(db, at, segment_id, c, coder, "rejected", version, was=None, **step)
            db.execute(
                "insert or replace into reviews (segment_id, coder, reviewed_at) values (?, ?, ?)",
                [segment_id, coder, at],
            )
            _log(db, at, coder, "reviewed", segment_id, None, version, was=reviewed and reviewed[0], **step)
        elif action == "reopen":
            if db.execute("delete from reviews where segment_id = ? and coder = ?", [segment_id, coder]).rowcount:
                _log(db, at, coder, "reopened", segment_id, None, version, was=reviewed[0], **step)
    return states(db, coder, segment_ids=[segment_id], show_suggestions=not recode)[0]


UNDOABLE = ("confirmed", "rejected", "removed", "reviewed", "reopened")  # events.action that ``apply`` logs


def _last_act(db, coder: str) -> str | None:
    """The ``act`` of ``coder``'s most recent action on their own layer that is not undone yet (and
    whose transcript was not replaced since); events logged before undo existed carry no ``act``."""
    row = db.execute(
        f"""
        select json_extract(detail, '$.act') from events
        where user = ? and action in ({",".join("?" * len(UNDOABLE))})
          and json_extract(detail, '$.act') is not null and json_extract(detail, '$.layer') is null
          and segment_id in (select s.id from segments s join transcripts t on t.id = s.transcript_id
                             where t.imported_at <= events.at)  -- not a segment removed or replaced since
          and json_extract(detail, '$.act') not in (
            select json_extract(detail, '$.undoes_act') from events
            where user = ? and action = 'undo' and json_extract(detail, '$.undoes_act') is not null)
        order by id desc limit 1""",
        [coder, *UNDOABLE, coder],
    ).fetchone()
    return row and row[0]


def undo(db, coder: str, codebook, recode: bool = False) -> UndoneState | None:
    """Take back ``coder``'s most recent coding action (one ``apply`` call) that is not undone yet,
    restoring each coding's and the review's state from before it; return the segment's new state
    (``undone``: the action taken back), or None when there is nothing left to undo.

    The ``undo`` event names the events it undid (``undoes``) and their ``act``, so a second call
    walks back one action further. Only ``coder``'s own layer is touched (``coder`` may be a
    re-coding layer, ``NAME:recode``, with ``recode``: the state then leaves suggestions out)."""
    at = store.now()
    with store.immediate(db):
        act = _last_act(db, coder)
        if act is None:
            return None
        rows = list(
            db.query(
                """select id, action, segment_id, code, detail from events
                                where user = ? and json_extract(detail, '$.act') = ? order by id desc""",
                [coder, act],
            )
        )
        segment_id, step = rows[0]["segment_id"], json.loads(rows[0]["detail"])["step"]
        for r in rows:
            was = json.loads(r["detail"]).get("was")
            if r["action"] == "reviewed" and was is None:
                db.execute("delete from reviews where segment_id = ? and coder = ?", [segment_id, coder])
            elif r["action"] in ("reviewed", "reopened"):
                db.execute(
                    "insert or replace into reviews (segment_id, coder, reviewed_at) values (?, ?, ?)",
                    [segment_id, coder, was],
                )
            elif was is None:
                db.execute(
                    "delete from codings where segment_id = ? and code = ? and coder = ?",
                    [segment_id, r["code"], coder],
                )
            else:
                _upsert(db, at, segment_id, r["code"], coder, was, codebook.version_tag)
        _log(
            db,
            at,
            coder,
            "undo",
            segment_id,
            None,
            codebook.version_tag,
            undoes=[r["id"] for r in rows],
            undoes_act=act,
            step=step,
        )
    state = states(db, coder, segment_ids=[segment_id], show_suggestions=not recode)
    return {**state[0], "undone": step} if state else None


def recode_sample(db, coder: str) -> list[int]:
    """The segments drawn for ``coder`` to re-code (``recode``: without their earlier codes or the
    suggestions), in reading order."""
    return [
        r["segment_id"]
        for r in db.query(
            """select r.segment_id from recode_samples r join segments s on s.id = r.segment_id
           where r.coder = ? order by s.transcript_id, s.idx""",
            [coder],
        )
    ]


def adjudicate(db, segment_id: int, codes: list[str], supervisor: str, codebook) -> list[str]:
    """Make ``codes`` the consensus of a segment (the ``consensus`` layer), atomically with audit
    events naming the supervisor and what each analyst had coded."""
    from .layers import CONSENSUS

    unknown = sorted(set(codes) - set(codebook.ids))
    if unknown:
        raise CoderError(f"unknown code(s) {', '.join(unknown)} (codebook {codebook.version_tag})")
    version, at = codebook.version_tag, store.now()
    with store.immediate(db):
        if not _segment_rows(db, "s.id = ?", [segment_id]):
            raise NotFound(f"no segment {segment_id} to adjudicate (unknown, or an interviewer turn)")
        current = {
            r["code"]
            for r in db.query(
                "select code from codings where segment_id = ? and coder = ? and status = 'confirmed'",
                [segment_id, CONSENSUS],
            )
        }
        for code in codebook.ids:
            if code in codes and code not in current:
                _set(db, at, segment_id, code, CONSENSUS, "confirmed", version, actor=supervisor)
            elif code not in codes and code in current:
                _remove(db, at, segment_id, code, CONSENSUS, version, actor=supervisor)
        db.execute(
            "insert or replace into reviews (segment_id, coder, reviewed_at) values (?, ?, ?)",
            [segment_id, CONSENSUS, at],
        )
        coded = {}
        for r in db.query(
            "select coder, code from codings where segment_id = ? and status = 'confirmed' and coder != ?",
            [segment_id, CONSENSUS],
        ):
            coded.setdefault(r["coder"], []).append(r["code"])
        _log(
            db,
            at,
            supervisor,
            "adjudicated",
            segment_id,
            None,
            version,
            layer=CONSENSUS,
            codes=sorted(codes),
            coders=coded,
        )
    return sorted(codes)


def has_suggestions(db, transcript_id: int) -> bool:
    """Whether a transcript's interviewee segments have stored suggestions (True if it has none to
    score)."""
    rows = db.execute(
        """select exists(select 1 from suggestions g join segments s on s.id = g.segment_id
                                       where s.transcript_id = ?),
                                exists(select 1 from interviewee_segments where transcript_id = ?)""",
        [transcript_id, transcript_id],
    ).fetchone()
    return bool(rows[0]) or not rows[1]


def progress(db, coder: str) -> dict[int, dict]:
    """Per transcript: interviewee segments, and how many ``coder`` has finished."""
    rows = db.query(
        """
        select s.transcript_id, count(*) as total, count(r.segment_id) as reviewed
        from interviewee_segments s left join reviews r on r.segment_id = s.id and r.coder = ?
        group by s.transcript_id""",
        [coder],
    )
    return {r["transcript_id"]: {"total": r["total"], "reviewed": r["reviewed"]} for r in rows}


def code_counts(db, coders: list[str] | None = None) -> dict[str, dict]:
    """Per code: confirmed codings, segments with the code, and coders who used it — counting only
    the layers in ``coders`` (default: every layer; the web passes what ``coder.access`` lets the
    user see)."""
    where, params = "", []
    if coders is not None:
        where, params = f"and coder in ({','.join('?' * len(coders)) or 'null'})", list(coders)
    rows = db.query(
        f"""select code, count(*) as codings, count(distinct segment_id) as segments,
                        count(distinct coder) as coders from codings where status = 'confirmed' {where}
                        group by code""",
        params,
    )
    return {r["code"]: dict(r) for r in rows}


def events(db, segment_id: int | None = None, limit: int = 200) -> list[dict]:
    """The audit log, newest first."""
    where, params = ("where segment_id = ?", [segment_id]) if segment_id is not None else ("", [])
    return [
        {**r, "detail": json.loads(r["detail"] or "{}")}
        for r in db.query(f"select * from events {where} order by id desc limit ?", [*params, limit])
    ]


# --- the review queue (確信度の低い順) ------------------------------------------------------------------


def uncertainty(scores, thresholds) -> float:
    """How unsure a segment's suggestions are, from its codes' ``scores`` and ``thresholds`` (floats or
    numpy values, one per code): per code 1 − |score − threshold| / max(threshold, 1 − threshold) — 1 at
    the threshold, 0 as far from it as a score in [0, 1] can be — and the largest over the codes; 0.0
    without any. The one measure of the review queue (``review_queue``, ``states``' ``uncertainty``) and
    of the suggestion summary's least certain segments (``coder.suggest.service.review_order``)."""
    return max((1 - abs(s - t) / max(t, 1 - t) for s, t in zip(scores, thresholds)), default=0.0)


def review_queue(db, coder: str, transcript_id: int) -> list[SegmentState]:
    """``coder``'s review queue of a transcript, as the coding view's 確信度の低い順 shows it: the
    segments they have not finished first, least certain suggestions first (``uncertainty``), ties in
    reading order; then the finished ones in the same order. Each is a ``states`` row without anybody
    else's codes (``others`` empty)."""
    return sorted(
        states(db, coder, transcript_id, show_others=False),
        key=lambda s: (s["reviewed"], -s["uncertainty"], s["transcript_id"], s["idx"]),
    )

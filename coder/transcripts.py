"""Managing stored transcripts: rename one, remove one with everything coded on it, or replace
its text by a corrected file while keeping the codings of the segments whose text did not change.

Removing and replacing take a backup of the project first (``backups/`` beside the project file,
see ``coder.backup``), then change everything in one transaction with an ``events`` row
(``transcript_renamed``, ``transcript_removed``, ``transcript_replaced``; one ``segment_dropped``
per segment that lost its codings, carrying them, so nothing disappears silently).

Replacing keeps the transcript's id, name, case and title. Old and new segments are matched by
their exact text: in reading order first (``difflib.SequenceMatcher`` over the segment texts), then
a segment that only moved finds its twin among those left. A matched segment keeps its row id, so
its codings, reviews, suggestions, re-coding draws and memos stay on it untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from . import db as store
from .errors import CoderError

BACKUPS = "backups"  # folder beside the project file that removal and replacement back up into
# What hangs off a transcript's segments, by segment_id; memos are handled on their own.
SEGMENT_TABLES = ("suggestions", "codings", "reviews", "recode_samples")


@dataclass
class Replacement:
    """What ``replace`` did: kept ``(old idx, new idx, text)``, dropped ``{"idx", "text", "codings",
    "reviews"}`` (old segments whose text is gone; their codings were removed and logged), added
    (new segment indexes without a match: to code), and the backup's path."""

    transcript: dict
    kept: list[tuple[int, int, str]] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)
    added: list[int] = field(default_factory=list)
    backup: Path | None = None
    kept_coded: list[dict] = field(default_factory=list)  # kept segments with codings: {"idx", "text", "codings"}
    memos_moved: int = 0  # memos on dropped segments, now on the transcript

    @property
    def to_recode(self) -> list[dict]:
        """Dropped segments that had codings or reviews: the ones an analyst should look at again."""
        return [d for d in self.dropped if d["codings"] or d["reviews"]]


def _log(db, at: str, user: str, action: str, segment_id=None, **detail) -> None:
    store.log_event(db, at, user, action, detail, segment_id)


def backup_first(db, folder: str | Path | None = None) -> Path | None:
    """Back the project up into ``folder`` (default ``backups/`` beside the project file, created if
    needed); return the copy's path, or None for a database without a file (in memory)."""
    from .backup import backup

    path = next((r[2] for r in db.execute("PRAGMA database_list") if r[1] == "main"), "")
    if not path:
        return None
    folder = Path(folder) if folder else Path(path).parent / BACKUPS
    folder.mkdir(parents=True, exist_ok=True)
    return backup(path, folder)["path"]


def rename(db, ref: str | int, new_name: str, *, user: str) -> dict:
    """Give a transcript (id or name) a new, unused name; logged as ``transcript_renamed``."""
    new_name = (new_name or "").strip()
    if not new_name:
        raise CoderError("a transcript needs a name", ja="トランスクリプトの名前を入力してください。")
    with store.immediate(db):
        t = store.find_transcript(db, ref)
        if new_name == t["name"]:
            return t
        if db.execute("select 1 from transcripts where name = ?", [new_name]).fetchone():
            raise CoderError(
                f"there is already a transcript named {new_name!r}",
                ja=f"「{new_name}」という名前のトランスクリプトはすでにあります。",
            )
        db.execute("update transcripts set name = ? where id = ?", [new_name, t["id"]])
        _log(db, store.now(), user, "transcript_renamed", transcript_id=t["id"], old=t["name"], new=new_name)
    return store.find_transcript(db, t["id"])


def counts(db, transcript_id: int) -> dict[str, int]:
    """How many rows of each kind hang off a transcript (what ``remove`` deletes)."""
    seg = "segment_id in (select id from segments where transcript_id = ?)"
    out = {
        t: db.execute(f"select count(*) from {t} where {seg}", [transcript_id]).fetchone()[0] for t in SEGMENT_TABLES
    }
    for table in ("segments", "turns", "speakers"):
        out[table] = db.execute(f"select count(*) from {table} where transcript_id = ?", [transcript_id]).fetchone()[0]
    out["memos"] = db.execute(
        f"select count(*) from memos where transcript_id = ? or {seg}", [transcript_id, transcript_id]
    ).fetchone()[0]
    out["attributes"] = db.execute(
        "select count(*) from attributes where scope = 'transcript' and target = ?", [str(transcript_id)]
    ).fetchone()[0]
    return out


def remove(db, ref: str | int, *, user: str, backup_folder: str | Path | None = None) -> dict:
    """Delete a transcript (id or name) and everything on it — segments, turns, speakers, codings,
    reviews, suggestions, re-coding draws, memos, transcript attributes — after a backup, in one
    transaction logged as ``transcript_removed`` (with the counts). Returns ``{"transcript",
    "counts", "backup"}``."""
    t = store.find_transcript(db, ref)
    copy = backup_first(db, backup_folder)
    with store.immediate(db):
        t = store.find_transcript(db, t["id"])
        n = counts(db, t["id"])
        seg = "segment_id in (select id from segments where transcript_id = ?)"
        db.execute(f"delete from memos where transcript_id = ? or {seg}", [t["id"], t["id"]])
        for table in SEGMENT_TABLES:
            db.execute(f"delete from {table} where {seg}", [t["id"]])
        db.execute("delete from attributes where scope = 'transcript' and target = ?", [str(t["id"])])
        for table in ("segments", "turns", "speakers"):
            db.execute(f"delete from {table} where transcript_id = ?", [t["id"]])
        db.execute("delete from transcripts where id = ?", [t["id"]])
        _log(
            db,
            store.now(),
            user,
            "transcript_removed",
            transcript_id=t["id"],
            name=t["name"],
            case=t["case_name"],
            source_file=t["source_file"],
            sha256=t["sha256"],
            counts=n,
            backup=str(copy) if copy else None,
        )
    return {"transcript": t, "counts": n, "backup": copy}


def match(old: list[str], new: list[str]) -> dict[int, int]:
    """``{old position: new position}`` of segments with the same text: in order first, then moved ones."""
    pairs = {}
    for block in SequenceMatcher(None, old, new, autojunk=False).get_matching_blocks():
        pairs.update({block.a + k: block.b + k for k in range(block.size)})
    free: dict[str, list[int]] = {}
    taken = set(pairs.values())
    for j, text in enumerate(new):
        if j not in taken:
            free.setdefault(text, []).append(j)
    for i, text in enumerate(old):
        if i not in pairs and free.get(text):
            pairs[i] = free[text].pop(0)
    return pairs


def read_replacement(db, ref: str | int, path: str | Path, nlp=None):
    """Read and segment a corrected file for a stored transcript as ``ingest`` would, with the
    transcript's case and its speakers' perspectives; returns ``(transcript row, Transcript)``."""
    from .ingest import prepare
    from .segment import load_nlp, segment_transcripts

    old = store.find_transcript(db, ref)
    mapping = {
        r["name"]: r["perspective"]
        for r in db.query(
            "select name, perspective from speakers where transcript_id = ? and perspective != 'unknown'", [old["id"]]
        )
    }
    document = old["layout"] == "document"
    report = prepare(
        db,
        [path],
        case=old["case_name"],
        speaker_map=mapping,
        document=document,
        perspective=next(iter(mapping.values()), None) if document else None,
    )
    if report.errors:
        raise CoderError("; ".join(report.errors), ja="／".join(report.errors_ja) or None)
    if report.skipped:
        raise CoderError(
            f"{path}: this file is already in the project (as {report.skipped[0][1]}); nothing to replace",
            ja=f"{Path(path).name}：このファイルはすでにプロジェクトにあります（{report.skipped[0][1]}）。"
            "差し替えるものはありません。",
        )
    t = report.imported[0]
    segment_transcripts(nlp or load_nlp(), [t])
    return old, t


def replace(
    db, ref: str | int, path: str | Path, *, user: str, nlp=None, backup_folder: str | Path | None = None
) -> Replacement:
    """Replace a transcript's text by a corrected file (see the module docstring); one transaction
    after a backup. Speakers keep their perspectives by name; segments whose text is gone lose
    their codings (each logged as ``segment_dropped`` with what it had); their memos stay on the
    transcript."""
    old, t = read_replacement(db, ref, path, nlp)
    result = Replacement(transcript=old, backup=backup_first(db, backup_folder))
    with store.immediate(db):
        tid, at = old["id"], store.now()
        rows = list(db.query("select id, idx, text from segments where transcript_id = ? order by idx", [tid]))
        pairs = match([r["text"] for r in rows], [s.text for s in t.segments])
        db.execute(
            "update transcripts set source_file = ?, sha256 = ?, encoding = ?, format = ?, original = ?, "
            "text = ?, layout = ?, import_notes = ?, imported_at = ? where id = ?",
            [
                t.source_file,
                t.sha256,
                t.encoding,
                t.format,
                t.original,
                t.text,
                t.layout,
                json.dumps([[n.where, n.what, n.text] for n in t.notes], ensure_ascii=False),
                at,
                tid,
            ],
        )
        speaker_ids = _speakers(db, tid, t)
        db.execute("update turns set idx = -1 - idx where transcript_id = ?", [tid])  # free the indexes
        db.execute("update segments set idx = -1 - idx where transcript_id = ?", [tid])
        turn_ids = store.insert_turns(db, tid, t.turns, speaker_ids)
        kept = {pairs[i]: r["id"] for i, r in enumerate(rows) if i in pairs}
        result.kept = [(r["idx"], t.segments[pairs[i]].index, r["text"]) for i, r in enumerate(rows) if i in pairs]
        for i, r in enumerate(rows):
            codings = [
                dict(c)
                for c in db.query(
                    "select coder, code, status from codings where segment_id = ? "
                    "and status = 'confirmed' order by coder, code",
                    [r["id"]],
                )
            ]
            if i in pairs and codings:
                result.kept_coded.append({"idx": t.segments[pairs[i]].index, "text": r["text"], "codings": codings})
        for j, s in enumerate(t.segments):
            values = store.segment_row(tid, turn_ids, s)
            if j in kept:
                db["segments"].update(kept[j], values)
            else:
                db["segments"].insert(values)
                result.added.append(s.index)
        # after the inserts, so no new segment takes the id of a dropped one
        dropped_ids = json.dumps([r["id"] for i, r in enumerate(rows) if i not in pairs])
        result.memos_moved = db.execute(
            "select count(*) from memos where kind = 'segment' and segment_id in (select value from json_each(?))",
            [dropped_ids],
        ).fetchone()[0]
        result.dropped = [_drop(db, at, user, tid, r) for i, r in enumerate(rows) if i not in pairs]
        db.execute("delete from turns where transcript_id = ? and idx < 0", [tid])
        db.execute("delete from speakers where transcript_id = ? and id not in (select speaker_id from turns)", [tid])
        _log(
            db,
            at,
            user,
            "transcript_replaced",
            transcript_id=tid,
            name=old["name"],
            old_sha256=old["sha256"],
            sha256=t.sha256,
            source_file=t.source_file,
            kept=len(result.kept),
            dropped=len(result.dropped),
            added=len(result.added),
            backup=str(result.backup) if result.backup else None,
        )
    return result


def _speakers(db, tid: int, t) -> dict[str, int]:
    """Speaker ids for the new turns: a stored speaker of the same name keeps its row and perspective."""
    ids = {r["name"]: r["id"] for r in db.query("select id, name from speakers where transcript_id = ?", [tid])}
    for turn in t.turns:
        if turn.speaker not in ids:
            ids[turn.speaker] = (
                db["speakers"]
                .insert({"transcript_id": tid, "name": turn.speaker, "perspective": turn.perspective})
                .last_pk
            )
    return ids


def _drop(db, at: str, user: str, tid: int, row: dict) -> dict:
    """Delete an old segment whose text is gone, logging what was coded on it; its memos move to the transcript."""
    sid = row["id"]
    codings = [
        dict(r)
        for r in db.query("select coder, code, status from codings where segment_id = ? order by coder, code", [sid])
    ]
    reviews = [r["coder"] for r in db.query("select coder from reviews where segment_id = ? order by coder", [sid])]
    db.execute(
        "update memos set kind = 'transcript', segment_id = null where kind = 'segment' and segment_id = ?", [sid]
    )
    db.execute("update memos set segment_id = null where segment_id = ?", [sid])  # a code memo keeps its code
    for table in SEGMENT_TABLES:
        db.execute(f"delete from {table} where segment_id = ?", [sid])
    db.execute("delete from segments where id = ?", [sid])
    if codings or reviews:
        _log(
            db,
            at,
            user,
            "segment_dropped",
            sid,
            transcript_id=tid,
            idx=row["idx"],
            text=row["text"],
            codings=codings,
            reviews=reviews,
        )
    return {"idx": row["idx"], "text": row["text"], "codings": codings, "reviews": reviews}

"""The project store: one SQLite file per project. This module owns the schema — every table and
view, created and changed only by its named migrations — and what every module shares: opening a
project, ``immediate`` write transactions, settings, ``log_event`` (the one writer of the audit log),
``chunked``/``marks``/``json_ids`` for statements over many ids, the transcripts, speakers, turns and
segments an ingest stores, and the JSONL segment record.

Other library modules read and write the tables they own with SQL of their own (ARCHITECTURE.md,
"Who owns what": codings, reviews and events ``coder.coding``, reads of coding layers
``coder.layers``, memos, attributes, summaries and codebook versions their modules); ``web/`` writes
no SQL. The coding unit is defined here once, as the view ``interviewee_segments`` (migration 0011):
the segments of every speaker who is not the interviewer. Whoever reads interviewee segments selects
from it (``segment_details``: every segment, the interviewer's too, with the same columns).

Migrations are named and applied in order on open (sqlite-utils ``Migrations``);
never edit a shipped migration, add the next one. Before migrating a database
that already has data, a copy is kept beside it as ``PATH.bak-YYYYmmddTHHMMSS``.

Offsets (``turns.start/end``, ``segments.start/end``) are code-point indices into
``transcripts.text``; see ``coder/types.py`` and ARCHITECTURE.md.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .errors import CoderError, NotFound
from .types import SuggestionRow, Transcript

DEFAULT_DB = "coder.db"
BUSY_TIMEOUT = 60  # seconds a writer waits for another writer
CHUNK = 500  # ids bound in one statement: well under SQLite's variable limit (999 before SQLite 3.32)
SPEAKER_EVENT = "speaker_perspective"  # events.action of a speaker → perspective change
migrations = Migrations("coder")
T = TypeVar("T")


@migrations(name="0001_transcripts_speakers_turns_segments")
def _m0001(db: Database) -> None:
    db["transcripts"].create(
        {
            "id": int,
            "name": str,
            "case_name": str,
            "title": str,
            "source_file": str,
            "sha256": str,
            "encoding": str,
            "format": str,
            "original": str,
            "text": str,
            "imported_at": str,
        },
        pk="id",
        not_null={"name", "sha256", "text"},
    )
    db["transcripts"].create_index(["sha256"], unique=True)
    db["transcripts"].create_index(["name"], unique=True)
    db["speakers"].create(
        {"id": int, "transcript_id": int, "name": str, "perspective": str},
        pk="id",
        foreign_keys=[("transcript_id", "transcripts", "id")],
    )
    db["speakers"].create_index(["transcript_id", "name"], unique=True)
    db["turns"].create(
        {
            "id": int,
            "transcript_id": int,
            "idx": int,
            "speaker_id": int,
            "start": int,
            "end": int,
            "start_time": float,
            "end_time": float,
        },
        pk="id",
        foreign_keys=[("transcript_id", "transcripts", "id"), ("speaker_id", "speakers", "id")],
    )
    db["turns"].create_index(["transcript_id", "idx"], unique=True)
    db["segments"].create(
        {
            "id": int,
            "transcript_id": int,
            "turn_id": int,
            "idx": int,
            "start": int,
            "end": int,
            "text": str,
            "tokens": str,
            "start_time": float,
            "end_time": float,
        },
        pk="id",
        foreign_keys=[("transcript_id", "transcripts", "id"), ("turn_id", "turns", "id")],
    )
    db["segments"].create_index(["transcript_id", "idx"], unique=True)


@migrations(name="0002_codings_events_suggestions_embeddings")
def _m0002(db: Database) -> None:
    db["codings"].create(
        {
            "id": int,
            "segment_id": int,
            "code": str,
            "coder": str,
            "status": str,
            "codebook_version": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("segment_id", "segments", "id")],
    )
    db["codings"].create_index(["segment_id", "code", "coder"], unique=True)
    db["events"].create(
        {"id": int, "at": str, "user": str, "action": str, "segment_id": int, "code": str, "detail": str}, pk="id"
    )
    db["suggestions"].create(
        {
            "segment_id": int,
            "code": str,
            "score": float,
            "threshold": float,
            "selected": int,
            "reasons": str,
            "suggesters": str,
            "codebook_version": str,
            "created_at": str,
        },
        pk=("segment_id", "code"),
        foreign_keys=[("segment_id", "segments", "id")],
    )
    db["embeddings"].create({"model": str, "key": str, "vector": bytes}, pk=("model", "key"))


@migrations(name="0003_users_reviews_settings")
def _m0003(db: Database) -> None:
    db["users"].create(
        {"id": int, "name": str, "role": str, "password_hash": str, "created_at": str},
        pk="id",
        not_null={"name", "role", "password_hash"},
    )
    db["users"].create_index(["name"], unique=True)
    # A segment an analyst has finished ("confirm and next"): its codes not confirmed are absent for that
    # analyst; a segment without a review row is missing for them, not absent (agreement depends on this).
    db["reviews"].create(
        {"segment_id": int, "coder": str, "reviewed_at": str},
        pk=("segment_id", "coder"),
        foreign_keys=[("segment_id", "segments", "id")],
    )
    db["settings"].create({"key": str, "value": str}, pk="key")
    db["events"].create_index(["segment_id"])


@migrations(name="0004_memos_recode_samples")
def _m0004(db: Database) -> None:
    # Codebook clarifications noted on a code (optionally from one segment's disagreement).
    db["memos"].create(
        {"id": int, "code": str, "segment_id": int, "author": str, "created_at": str, "text": str},
        pk="id",
        not_null={"code", "author", "text"},
    )
    # Segments drawn for a coder to re-code blind (intra-coder agreement); re-codings are stored
    # under the pseudo-coder "NAME:recode".
    db["recode_samples"].create(
        {"coder": str, "segment_id": int, "drawn_at": str},
        pk=("coder", "segment_id"),
        foreign_keys=[("segment_id", "segments", "id")],
    )


@migrations(name="0005_user_codes")
def _m0005(db: Database) -> None:
    # Codes that came with an imported REFI-QDA file (.qdpx/.qdc) and match no codebook code; their
    # codings store ``user:<guid>`` in ``codings.code``. ``parent`` is the code string of the code
    # they were nested under (a codebook id or ``user:<guid>``), ``codable`` REFI's isCodable.
    db["user_codes"].create(
        {"id": int, "name": str, "guid": str, "description": str, "parent": str, "codable": int, "created_at": str},
        pk="id",
        not_null={"name", "guid"},
    )
    db["user_codes"].create_index(["guid"], unique=True)


@migrations(name="0006_user_code_examples")
def _m0006(db: Database) -> None:
    # Draft codes proposed from an emergent theme (``coder topics``) keep the segments they came from:
    # a JSON list of {"segment_id", "text"}. Null for codes imported from REFI-QDA files.
    db["user_codes"].add_column("examples", str)


@migrations(name="0007_transcript_layout_import_notes")
def _m0007(db: Database) -> None:
    # How a source's turns were read (labels, headers, names, questions, document, cues) and its import
    # report: a JSON list of [where, what, text] — what was left out or read in a particular way.
    db["transcripts"].add_column("layout", str)
    db["transcripts"].add_column("import_notes", str)


@migrations(name="0008_accounts_names")
def _m0008(db: Database) -> None:
    # Accounts: ``session_epoch`` is part of every session cookie's user id and goes up on logout,
    # password change and disable, so a cookie saved earlier no longer logs anyone in;
    # ``failed_logins`` counts wrong passwords since the last right one; ``locked_until`` (ISO time)
    # is set when they reach the lockout limit and cleared by a supervisor (``coder user unlock``).
    db["users"].add_column("session_epoch", int, not_null_default=0)
    db["users"].add_column("disabled_at", str)
    db["users"].add_column("failed_logins", int, not_null_default=0)
    db["users"].add_column("locked_until", str)
    # The session-signing key no longer lives in the database (anyone with a copy could forge a
    # session); it is kept in a file beside the project or in CODER_SECRET_KEY (see web/database.py).
    db.execute("delete from settings where key = 'secret_key'")
    # Names that pseudonymised exports replace: found by GiNZA's NER or taken from speaker labels
    # (``origin`` ner|speaker|manual), reviewed by a supervisor (``status`` candidate|replace|keep).
    # ``kind`` person|organisation picks the placeholder family (人物A, 事業所B).
    db["pseudonym_names"].create(
        {
            "id": int,
            "name": str,
            "kind": str,
            "origin": str,
            "status": str,
            "reviewed_by": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"name", "kind", "origin", "status"},
    )
    db["pseudonym_names"].create_index(["name"], unique=True)


@migrations(name="0009_workbench_memos_attributes_codebook")
def _m0009(db: Database) -> None:
    # Memos on more than codes: ``kind`` code|segment|transcript|case|project says what a memo is
    # attached to (``code``, ``segment_id``, ``transcript_id`` or ``case_name``; none for the project).
    # Existing rows are codebook clarifications on a code (kind code).
    db["memos"].transform(not_null={"code": False})  # a memo on a segment or a case has no code
    db["memos"].add_column("kind", str, not_null_default="code")
    db["memos"].add_column("transcript_id", int)
    db["memos"].add_column("case_name", str)
    db["memos"].add_column("updated_at", str)
    # Attributes of cases and transcripts (障害種別, 利用サービス, 年代 …): one value per
    # (scope case|transcript, target = case name or transcript id as text, attribute name).
    db["attributes"].create(
        {"id": int, "scope": str, "target": str, "name": str, "value": str, "updated_at": str},
        pk="id",
        not_null={"scope", "target", "name"},
    )
    db["attributes"].create_index(["scope", "target", "name"], unique=True)
    # The project's own codebook: every version of it as a whole document (the codebook YAML's
    # schema, as JSON), newest last; seeded from codebook/renkei.yaml on first use. A change (add,
    # rename, describe, recolour, nest, merge, retire) writes a new version and an event.
    db["codebook_versions"].create(
        {"id": int, "created_at": str, "author": str, "note": str, "body": str}, pk="id", not_null={"body"}
    )


@migrations(name="0010_summaries")
def _m0010(db: Database) -> None:
    # Cell summaries (framework analysis "charting", ``coder.summaries``): one text per matrix cell —
    # ``grouping`` perspective|case|transcript|attr:NAME, ``row`` (a perspective id, case, transcript
    # name or attribute value), ``code`` — shared by the team, whatever the coding source; ``author`` is
    # the last editor (the history is in events); ``segments`` a JSON list of the segment ids it rests on.
    db["summaries"].create(
        {
            "id": int,
            "grouping": str,
            "row": str,
            "code": str,
            "text": str,
            "segments": str,
            "author": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"grouping", "row", "code", "text"},
    )
    db["summaries"].create_index(["grouping", "row", "code"], unique=True)


@migrations(name="0011_interviewee_segments")
def _m0011(db: Database) -> None:
    # Every segment with where it stands — its transcript (name, case, title), its turn (``turn_idx``:
    # turns.idx, 0-based) and that turn's speaker and perspective: the join each reader used to spell out.
    db.create_view(
        "segment_details",
        """
        select s.id, s.transcript_id, s.turn_id, s.idx, s.start, s."end", s.text, s.tokens, s.start_time,
               s.end_time, t.name as transcript, t.case_name, t.title, u.idx as turn_idx, u.speaker_id,
               sp.name as speaker, sp.perspective
        from segments s join transcripts t on t.id = s.transcript_id join turns u on u.id = s.turn_id
        join speakers sp on sp.id = u.speaker_id""",
    )
    # The coding unit, defined once: a segment of a speaker who is not the interviewer (the interviewer's
    # turns are context, never coded, counted or searched by default).
    db.create_view("interviewee_segments", "select * from segment_details where perspective != 'interviewer'")


def default_path() -> str:
    """The project database path: ``$CODER_DB`` if set, else ``coder.db`` in the working directory."""
    return os.environ.get("CODER_DB", DEFAULT_DB)


def open_db(path: str | Path | None = None, create: bool = True) -> Database:
    """Open (and migrate) a project database; WAL mode, foreign keys on."""
    path = Path(path or default_path())
    if not create and not path.exists():
        raise CoderError(f"{path}: no such project database (create one with `coder init --db {path}`)")
    exists = path.exists() and path.stat().st_size > 0
    # A writer waits up to BUSY_TIMEOUT s for another (web requests, background retraining) instead of failing.
    db = Database(sqlite3.connect(str(path), timeout=BUSY_TIMEOUT))
    db.execute("PRAGMA journal_mode=wal")
    db.execute("PRAGMA foreign_keys=on")
    if exists and migrations.pending(db) and migrations.applied(db):
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy2(path, f"{path}.bak-{stamp}")
    migrations.apply(db)
    return db


@contextmanager
def immediate(db: Database):
    """A write transaction that takes the write lock up front (BEGIN IMMEDIATE), so what it reads
    cannot change before it writes and a second writer waits (up to the connection's busy timeout,
    ``BUSY_TIMEOUT``) instead of failing with "database is locked" when a deferred transaction
    would upgrade its lock. Rolls back entirely on error. Inside an open transaction it is a
    savepoint of that transaction. Every writer in ``coder`` uses it (not ``db.atomic()``)."""
    if db.conn.in_transaction:
        with db.atomic():  # a savepoint of the open transaction
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()


def chunked(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """``items`` in consecutive lists of at most ``size`` (none for no items), for statements that bind
    one variable per id (``where id in (?, ?, …)``, see ``marks``): SQLite refuses a statement with more
    variables than its limit, so an unbounded list of ids is queried part by part."""
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def marks(items: Sequence) -> str:
    """``?,?,?``: one placeholder per item, for ``in (…)`` over a short list (a ``chunked`` part, or
    coder names); ``null`` for an empty list, so that ``x in (null)`` matches nothing."""
    return ",".join("?" * len(items)) or "null"


def json_ids(ids: Iterable[int]) -> str:
    """``ids`` as one JSON array parameter for ``… in (select value from json_each(?))``: any number of
    ids in one statement, bound as a single variable. ``ValueError``/``TypeError`` for an item that is
    not an integer."""
    return json.dumps([int(i) for i in ids])


def get_setting(db: Database, key: str, default: str | None = None) -> str | None:
    """The value of setting ``key`` (table ``settings``), or ``default`` if it is not set."""
    rows = list(db.query("select value from settings where key = ?", [key]))
    return rows[0]["value"] if rows else default


def put_setting(db: Database, key: str, value: str) -> None:
    """Set (or replace) setting ``key`` to ``value``, written under ``immediate``."""
    with immediate(db):
        db["settings"].insert({"key": key, "value": value}, replace=True)


def log_event(
    db: Database, at: str, user: str, action: str, detail: dict, segment_id: int | None = None, code: str | None = None
) -> None:
    """One row of the audit log (``events``), in the caller's transaction: who, when, what, and a
    JSON ``detail``. Every module that changes the project writes its events through here."""
    db.execute(
        "insert into events (at, user, action, segment_id, code, detail) values (?, ?, ?, ?, ?, ?)",
        [at, user, action, segment_id, code, json.dumps(detail, ensure_ascii=False)],
    )


def now() -> str:
    """The current UTC time as ISO 8601 to the second, e.g. ``2024-05-01T09:30:00+00:00``."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def known_sha256(db: Database) -> dict[str, str]:
    """{sha256 of a transcript's source bytes: its name} for every transcript (imports skip files already
    imported)."""
    return {r["sha256"]: r["name"] for r in db.query("select sha256, name from transcripts")}


def known_names(db: Database) -> set[str]:
    """The names of every transcript in the project (imports keep new names unique)."""
    return {r["name"] for r in db.query("select name from transcripts")}


def known_speakers(db: Database) -> dict[str, str]:
    """Speaker names the project has mapped to exactly one perspective: other than unknown, or unknown
    set on purpose (``set_speaker``; a decision, where a default unknown is none)."""
    rows = db.query(
        """with decided as (select json_extract(detail, '$.transcript_id') as transcript_id,
                                               json_extract(detail, '$.speaker') as name from events
                                        where action = ? and json_extract(detail, '$.new') = 'unknown')
                       select name, min(perspective) p from speakers
                       where perspective != 'unknown' or (transcript_id, name) in (select * from decided)
                       group by name having count(distinct perspective) = 1""",
        [SPEAKER_EVENT],
    )
    return {r["name"]: r["p"] for r in rows}


def store_transcripts(db: Database, transcripts: list[Transcript]) -> None:
    """Write parsed and segmented transcripts in one transaction: all of them or nothing."""
    with immediate(db):
        for t in transcripts:
            t.id = (
                db["transcripts"]
                .insert(
                    {
                        "name": t.name,
                        "case_name": t.case,
                        "title": t.title,
                        "source_file": t.source_file,
                        "sha256": t.sha256,
                        "encoding": t.encoding,
                        "format": t.format,
                        "original": t.original,
                        "text": t.text,
                        "imported_at": now(),
                        "layout": t.layout,
                        "import_notes": json.dumps([[n.where, n.what, n.text] for n in t.notes], ensure_ascii=False),
                    }
                )
                .last_pk
            )
            speaker_ids = {}
            for turn in t.turns:
                if turn.speaker not in speaker_ids:
                    speaker_ids[turn.speaker] = (
                        db["speakers"]
                        .insert({"transcript_id": t.id, "name": turn.speaker, "perspective": turn.perspective})
                        .last_pk
                    )
            turn_ids = insert_turns(db, t.id, t.turns, speaker_ids)
            db["segments"].insert_all((segment_row(t.id, turn_ids, s) for s in t.segments), batch_size=500)


def insert_turns(db: Database, transcript_id: int, turns, speaker_ids: dict[str, int]) -> list[int]:
    """Insert a transcript's turns (``coder.types.Turn``, in order; offsets in code points, times in
    seconds) with their speakers' row ids; return the new turn ids, index for index."""
    return [
        db["turns"]
        .insert(
            {
                "transcript_id": transcript_id,
                "idx": i,
                "speaker_id": speaker_ids[turn.speaker],
                "start": turn.start,
                "end": turn.end,
                "start_time": turn.start_time,
                "end_time": turn.end_time,
            }
        )
        .last_pk
        for i, turn in enumerate(turns)
    ]


def segment_row(transcript_id: int, turn_ids: list[int], s) -> dict:
    """The ``segments`` row of a ``coder.types.Segment`` (its turn by index into ``turn_ids``)."""
    return {
        "transcript_id": transcript_id,
        "turn_id": turn_ids[s.turn],
        "idx": s.index,
        "start": s.start,
        "end": s.end,
        "text": s.text,
        "tokens": json.dumps(s.tokens, ensure_ascii=False),
        "start_time": s.start_time,
        "end_time": s.end_time,
    }


def find_transcript(db: Database, ref: str | int) -> dict:
    """A transcript row by id or name; CoderError listing the choices if none matches."""
    rows = list(
        db.query(
            "select * from transcripts where name = ? or cast(id as text) = ? order by name = ? desc",
            [str(ref), str(ref), str(ref)],
        )
    )
    if not rows:
        names = ", ".join(f"{r['id']}:{r['name']}" for r in db.query("select id, name from transcripts"))
        raise NotFound(
            f"no transcript {ref!r} in this project (have: {names or 'none'})",
            ja=f"「{ref}」というトランスクリプトはこのプロジェクトにありません。",
        )
    return rows[0]


def transcript_of(db: Database, segment_id: int) -> int:
    """The id of the transcript a segment belongs to; ``NotFound`` for an unknown segment."""
    row = db.execute("select transcript_id from segments where id = ?", [segment_id]).fetchone()
    if row is None:
        raise NotFound(
            f"no segment {segment_id} in this project", ja=f"セグメント {segment_id} はこのプロジェクトにありません。"
        )
    return row[0]


def list_transcripts(db: Database) -> list[dict]:
    """Every transcript, by id: {id, name, title, case_name, format, encoding, layout, source_file,
    imported_at, chars (length of the text in code points), turns, segments, perspectives (distinct,
    comma-separated, ``interviewer`` left out; None if there are none)}."""
    return list(
        db.query("""
        select t.id, t.name, t.title, t.case_name, t.format, t.encoding, t.layout, t.source_file, t.imported_at,
               length(t.text) as chars,
               (select count(*) from turns where transcript_id = t.id) as turns,
               (select count(*) from segments where transcript_id = t.id) as segments,
               (select group_concat(distinct perspective) from speakers
                where transcript_id = t.id and perspective != 'interviewer') as perspectives
        from transcripts t order by t.id""")
    )


def list_cases(db: Database) -> list[str]:
    """The project's case names (transcripts' ``case_name``), sorted."""
    return [
        r[0]
        for r in db.execute(
            "select distinct case_name from transcripts where case_name is not null order by case_name"
        ).fetchall()
    ]


def transcript_names(db: Database) -> list[dict]:
    """Every transcript as {id, name}, by id (the pages' transcript menus)."""
    return list(db.query("select id, name from transcripts order by id"))


def list_speakers(db: Database, transcript: str | int | None = None) -> list[dict]:
    """The speakers of one transcript (id or name; ``NotFound`` if none matches) or of all, by transcript
    and speaker id: {transcript_id, transcript, speaker, perspective, turns (how many)}."""
    where, params = "", []
    if transcript is not None:
        where, params = "where t.id = ?", [find_transcript(db, transcript)["id"]]
    return list(
        db.query(
            f"""
        select t.id as transcript_id, t.name as transcript, s.name as speaker, s.perspective,
               (select count(*) from turns where speaker_id = s.id) as turns
        from speakers s join transcripts t on t.id = s.transcript_id {where}
        order by t.id, s.id""",
            params,
        )
    )


def set_speaker(db: Database, speaker: str, perspective: str, transcript: str | int | None = None, *, user: str) -> int:
    """Map a speaker (in one transcript or in all) to a perspective; return in how many transcripts.

    A perspective decides which turns are coded and where they count in the matrix, so every change
    is logged in ``events`` (action ``speaker_perspective``, by ``user``, detail: transcript,
    speaker, old and new perspective) in the same transaction. Setting ``unknown`` is logged even
    where the speaker had it already (by default): it records the decision, so the project
    remembers it for later imports (``known_speakers``) and no longer lists the speaker as unmapped."""
    where, params = "s.name = ?", [speaker]
    if transcript is not None:
        where += " and s.transcript_id = ?"
        params.append(find_transcript(db, transcript)["id"])
    at = now()
    with immediate(db):
        rows = list(
            db.query(
                f"""select s.id, s.transcript_id, t.name as transcript, s.perspective from speakers s
                                 join transcripts t on t.id = s.transcript_id where {where} order by s.id""",
                params,
            )
        )
        for r in (r for r in rows if r["perspective"] != perspective or perspective == "unknown"):
            db.execute("update speakers set perspective = ? where id = ?", [perspective, r["id"]])
            detail = {
                "transcript_id": r["transcript_id"],
                "transcript": r["transcript"],
                "speaker": speaker,
                "old": r["perspective"],
                "new": perspective,
            }
            log_event(db, at, user, SPEAKER_EVENT, detail)
    if not rows:
        raise NotFound(
            f"no speaker {speaker!r} in {'transcript ' + repr(transcript) if transcript else 'this project'}"
            " (see `coder speakers`)"
        )
    return len(rows)


def set_speakers(db: Database, changes: list[tuple[str, str]], user: str, transcript: str | int | None = None) -> int:
    """Several speakers' perspectives at once, all or nothing: ``changes`` is [(speaker, perspective)],
    each applied and logged as ``set_speaker`` does, in one transaction (``NotFound`` for a speaker not
    in ``transcript`` — id or name; None: in any — and nothing is changed). Returns how many
    (speaker, transcript) pairs were set."""
    with immediate(db):
        return sum(set_speaker(db, speaker, perspective, transcript, user=user) for speaker, perspective in changes)


def speaker_changes(db: Database, transcript: str | int | None = None, limit: int = 20) -> list[dict]:
    """Speaker → perspective changes (see ``set_speaker``), newest first: at, user, transcript_id,
    transcript, speaker, old, new."""
    where, params = "", []
    if transcript is not None:
        where, params = "and json_extract(detail, '$.transcript_id') = ?", [find_transcript(db, transcript)["id"]]
    return [
        {"at": r["at"], "user": r["user"], **json.loads(r["detail"])}
        for r in db.query(
            f"select at, user, detail from events where action = ? {where} order by id desc limit ?",
            [SPEAKER_EVENT, *params, limit],
        )
    ]


def hhmmss(seconds: float | None) -> str | None:
    """Seconds as ``hh:mm:ss.mmm``, rounded to the millisecond (94.5 → ``00:01:34.500``); None stays None."""
    if seconds is None:
        return None
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def iter_segments(db: Database, transcript: str | int | None = None):
    """Segments in reading order, as the documented JSONL records (see README, `coder segments`)."""
    where, params = "", []
    if transcript is not None:
        where, params = "where transcript_id = ?", [find_transcript(db, transcript)["id"]]
    for r in db.query(
        f"""
        select id, transcript_id, transcript, turn_idx, speaker, perspective, idx, start, [end], text, start_time,
               end_time
        from segment_details {where} order by transcript_id, idx""",
        params,
    ):
        yield {
            "id": r["id"],
            "transcript": r["transcript_id"],
            "transcript_name": r["transcript"],
            "turn": r["turn_idx"],
            "speaker": r["speaker"],
            "perspective": r["perspective"],
            "index": r["idx"],
            "start": r["start"],
            "end": r["end"],
            "text": r["text"],
            "start_time": hhmmss(r["start_time"]),
            "end_time": hhmmss(r["end_time"]),
        }


def get_embeddings(db: Database, model: str, keys: list[str]) -> dict:
    """Cached vectors by text hash for one embedding model."""
    import numpy as np

    out = {}
    for part in chunked(keys):
        rows = db.query(
            f"select key, vector from embeddings where model = ? and key in ({marks(part)})", [model, *part]
        )
        out.update({r["key"]: np.frombuffer(r["vector"], dtype=np.float32) for r in rows})
    return out


def put_embeddings(db: Database, model: str, vectors: dict) -> None:
    """Cache ``vectors`` ({text hash: numpy vector}) for embedding ``model``, replacing those stored under
    the same keys; stored as raw bytes, which ``get_embeddings`` reads back as float32."""
    with immediate(db):
        db["embeddings"].insert_all(
            ({"model": model, "key": k, "vector": v.tobytes()} for k, v in vectors.items()),
            replace=True,
            batch_size=500,
        )


def segments_to_code(db: Database, transcript: str | int | None = None) -> list[dict]:
    """Interviewee segments (``interviewee_segments``: interviewer turns are never coded) of one
    transcript or all, in reading order: id, text, perspective."""
    where, params = "", []
    if transcript is not None:
        where, params = "where transcript_id = ?", [find_transcript(db, transcript)["id"]]
    return list(
        db.query(f"select id, text, perspective from interviewee_segments {where} order by transcript_id, idx", params)
    )


def confirmed_examples(db: Database, coders: list[str] | None = None) -> list[dict]:
    """Segments some coder has decided on (a coding or a finished review): id, text, the
    speaker's perspective, confirmed codes — from the layers in ``coders`` only, if given (see
    ``coder.access.training_layers``)."""
    where, params = "", []
    if coders is not None:
        where, params = f"where coder in ({marks(coders)})", list(coders)
    rows = db.query(
        f"""
        with c as (select * from codings {where}), r as (select * from reviews {where})
        select s.id, s.text, s.perspective,
               group_concat(case when c.status = 'confirmed' then c.code end) as codes
        from segment_details s left join c on c.segment_id = s.id
        where s.id in (select segment_id from c union select segment_id from r)
        group by s.id order by s.id""",
        params * 2,
    )
    return [
        {
            "id": r["id"],
            "text": r["text"],
            "perspective": r["perspective"],
            "codes": sorted(set((r["codes"] or "").split(",")) - {""}),
        }
        for r in rows
    ]


def user_codes(db: Database) -> list[dict]:
    """Codes imported from other tools (see migration 0005); a coding's code is ``user:<guid>``."""
    return list(db.query("select id, name, guid, description, parent, codable, created_at from user_codes order by id"))


def store_suggestions(db: Database, rows: list[SuggestionRow]) -> None:
    """Replace the stored suggestions of the given segments, in one transaction."""
    with immediate(db):
        for part in chunked(sorted({r["segment_id"] for r in rows})):
            db.execute(f"delete from suggestions where segment_id in ({marks(part)})", part)
        db["suggestions"].insert_all(rows, batch_size=500)

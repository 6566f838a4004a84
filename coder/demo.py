"""The demo project: the sample corpus in ``corpus/`` ingested into a fresh database, with the
finished work of a small team on two of its interviews (``corpus/demo_codings.yaml``).

The codings file names two analysts, the interviews they finished, each analyst's codes per segment,
a supervisor's adjudications and a few cell summaries. A segment is found by a snippet of its text
(``match``), which must occur in exactly one interviewee segment of the named transcript, so the file
does not depend on segment ids and a change of the segmenter that splits or joins a quoted segment is
an error naming the snippet. Everything is written through ``coder.coding`` (``apply``,
``adjudicate``), so the demo's events are the ones normal use logs.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import db as store
from .db import open_db
from .errors import CoderError
from .ingest import IngestReport, ingest, load_manifest

CODINGS = "demo_codings.yaml"  # in the corpus folder


@dataclass
class DemoReport:
    """What ``build_demo`` made: the ingest report, ``load_codings``' summary (None when no codings
    were loaded) and how many themes were found (None when not asked)."""

    ingest: IngestReport
    codings: dict | None = None
    topics: int | None = None  # themes found among the uncoded segments (None: not asked, or skipped)
    topics_skipped: str | None = None  # why no themes were found


def build_demo(
    db_path: str | Path,
    corpus: str | Path,
    force: bool = False,
    nlp=None,
    suggest: bool = False,
    codings: bool = True,
    topics: bool = False,
) -> DemoReport:
    """Create ``db_path`` from ``corpus/metadata.yaml`` and the files it lists; with ``suggest``,
    also store cold-start code suggestions for every segment (as `coder suggest --db` does); with
    ``codings`` (and a ``corpus/demo_codings.yaml``), load the demo team's codings after that
    (``load_codings``); with ``topics``, find the themes of the uncoded segments last (as `coder topics
    --source uncoded` does), so the report's emergent-themes section has something to show (skipped,
    with ``topics_skipped`` saying why, on a corpus too small for themes). Raises ``CoderError`` if
    ``db_path`` exists and ``force`` is off, or if the corpus or the codings file is wrong."""
    db_path, corpus = Path(db_path), Path(corpus)
    manifest = corpus / "metadata.yaml"
    if not manifest.exists():
        raise CoderError(f"{manifest}: the corpus has no metadata.yaml")
    if db_path.exists():
        if not force:
            raise CoderError(f"{db_path} exists; pass --force to replace it with a fresh demo project")
        for suffix in ("", "-wal", "-shm", ".secret"):  # a new project: sessions of the old one must not carry over
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    files = [corpus / name for name in load_manifest(manifest)]
    db = open_db(db_path)
    report = DemoReport(ingest(db, [manifest, *files], nlp=nlp))
    if suggest:
        from .codebook import load_codebook
        from .suggest.service import suggest_project

        suggest_project(db, load_codebook())
    if codings and (corpus / CODINGS).exists():
        report.codings = load_codings(db, corpus / CODINGS)
    if topics:
        from . import topics as themes

        try:
            report.topics = themes.save_result(db, themes.find_topics(db, "uncoded"))["n_topics"]
        except CoderError as exc:  # a corpus too small for themes is still a demo
            report.topics_skipped = str(exc)
    return report


def read_codings(path: str | Path) -> dict:
    """The codings file as a dict with ``transcripts`` (names), ``supervisor``, ``analysts``
    ({name: [{transcript, match, codes}]}), ``adjudications`` ([{transcript, match, codes}]) and
    ``summaries`` ([{by, row, code, text, user, match: [snippets]}]); ``CoderError`` naming the file
    if it cannot be read or lacks one of these."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CoderError(f"{path}: cannot read the demo codings: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("analysts"), dict) or not data.get("transcripts"):
        raise CoderError(
            f"{path}: expected `transcripts`, `analysts: {{NAME: [entries]}}` and, optionally, "
            "`supervisor`, `adjudications` and `summaries`"
        )
    for entry in [
        *(e for entries in data["analysts"].values() for e in entries or []),
        *(data.get("adjudications") or []),
    ]:
        if not isinstance(entry, dict) or not {"transcript", "match", "codes"} <= set(entry):
            raise CoderError(f"{path}: every entry needs transcript, match and codes, not {entry!r}")
    if data.get("adjudications") and not data.get("supervisor"):
        raise CoderError(f"{path}: adjudications need a `supervisor`")
    return {"supervisor": None, "adjudications": [], "summaries": [], **data}


class _Finder:
    """Interviewee segments of the demo's transcripts, found by a snippet of their text."""

    def __init__(self, db, path, transcripts: list[str]):
        self.path = path
        self.segments = {name: store.segments_to_code(db, name) for name in transcripts}  # NotFound if missing

    def find(self, snippet: str, transcript: str | None = None) -> int:
        """The id of the one segment (of ``transcript``, or of any demo transcript) containing ``snippet``."""
        if transcript is not None and transcript not in self.segments:
            raise CoderError(
                f"{self.path}: transcript {transcript!r} is not one of the demo's coded interviews "
                f"({', '.join(self.segments)})"
            )
        names = [transcript] if transcript is not None else list(self.segments)
        hits = [s["id"] for name in names for s in self.segments[name] if snippet and snippet in s["text"]]
        if len(hits) != 1:
            raise CoderError(
                f"{self.path}: snippet {snippet!r} matches {len(hits)} segments of "
                f"{' or '.join(names)}; it must match exactly one"
            )
        return hits[0]

    def ids(self) -> list[int]:
        return [s["id"] for segments in self.segments.values() for s in segments]


def load_codings(db, path: str | Path, codebook=None) -> dict:
    """Load a demo codings file (see ``read_codings``) into the project: each analyst confirms their
    codes and finishes (reviews) every interviewee segment of the listed transcripts, one transaction
    per analyst; then the supervisor adjudicates (one transaction); then the cell summaries are stored
    if ``coder.summaries`` is installed. Every change goes through ``coder.coding`` and is logged as in
    normal use. ``codebook`` defaults to the project's (``codebook_edit.project_codebook``).

    Returns ``{"analysts": [names], "transcripts": [names], "segments": interviewee segments finished
    by each analyst, "disagreements": segments the analysts coded differently, "adjudicated": how many
    of them the supervisor settled, "summaries": summaries stored (None: coder.summaries missing)}``.
    Raises ``CoderError`` naming the file and the snippet that matches no segment or several, an
    unknown code, a segment listed twice for one analyst, or an adjudication of a segment the
    analysts agree on; these are checked before anything is written."""
    from . import coding
    from .agreement import disagreements
    from .codebook_edit import project_codebook

    data = read_codings(path)
    book = codebook or project_codebook(db)
    finder = _Finder(db, path, list(data["transcripts"]))
    plan = {analyst: _codes(path, book, finder, analyst, entries) for analyst, entries in data["analysts"].items()}
    settled = _codes(path, book, finder, data["supervisor"], data["adjudications"])
    for e in data["adjudications"]:  # every analyst finishes every segment: they differ where their lists differ
        sid = finder.find(e["match"], e["transcript"])
        if len({tuple(sorted(codes.get(sid, []))) for codes in plan.values()}) < 2:
            raise CoderError(
                f"{path}: the analysts agree on the segment of {e['match']!r}; only a disagreement is adjudicated"
            )
    linked = [[finder.find(snippet) for snippet in s.get("match") or []] for s in data["summaries"]]
    for analyst, codes in plan.items():
        with store.immediate(db):
            for sid in finder.ids():
                for code in codes.get(sid, []):
                    coding.apply(db, sid, analyst, "confirm", book, code)
                coding.apply(db, sid, analyst, "review", book)
    with store.immediate(db):
        for sid, codes in settled.items():
            coding.adjudicate(db, sid, codes, data["supervisor"], book)
    rows = disagreements(db, book, list(plan))
    return {
        "analysts": list(plan),
        "transcripts": list(data["transcripts"]),
        "segments": len(finder.ids()),
        "disagreements": len(rows),
        "adjudicated": sum(r["consensus"] is not None for r in rows),
        "summaries": _summaries(db, data, linked, book),
    }


def _codes(path, book, finder: _Finder, who: str, entries: list[dict]) -> dict[int, list[str]]:
    """``{segment id: codes}`` of one analyst's (or the supervisor's) entries, checked."""
    out: dict[int, list[str]] = {}
    for e in entries or []:
        sid = finder.find(e["match"], e["transcript"])
        unknown = sorted(set(e["codes"]) - set(book.ids))
        if unknown:
            raise CoderError(
                f"{path}: unknown code(s) {', '.join(unknown)} at {e['match']!r} (codebook {book.version_tag})"
            )
        if sid in out:
            raise CoderError(f"{path}: {who} lists the segment of {e['match']!r} twice")
        out[sid] = list(e["codes"])
    return out


def _summaries(db, data: dict, linked: list[list[int]], book) -> int | None:
    """Store the file's cell summaries (``linked``: each one's segment ids) through
    ``coder.summaries.set_summary``, if that module exists; how many, or None without it."""
    if importlib.util.find_spec(f"{__package__}.summaries") is None:
        return None
    from .summaries import set_summary

    for s, ids in zip(data["summaries"], linked):
        set_summary(
            db,
            s["by"],
            s["row"],
            s["code"],
            s["text"],
            user=s.get("user") or data["supervisor"],
            segment_ids=ids,
            codebook=book,
        )
    return len(data["summaries"])

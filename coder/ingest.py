"""Files → stored, segmented transcripts.

An ingest call is one transaction: every file is read, decoded, parsed and
segmented first; only if all succeed is anything written. A file whose bytes
(sha256) are already in the project is reported as already imported and skipped.
A YAML/JSON manifest given among the files supplies each file's case, title,
speaker map and, for documents, ``document: true`` / ``perspective`` (see ``corpus/metadata.yaml``).
``prepare`` does the reading alone: ``coder ingest --dry-run`` and the web import's preview show
its result (with ``warnings``) before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import db as store
from . import formats, speakers
from .decode import decode
from .errors import CoderError, IngestError
from .formats.lines import TIMECODE_IN_WORDS, classify
from .types import Note, Transcript

MAX_BYTES = 20 * 1024 * 1024  # 20 MiB: far above any interview transcript, well below memory trouble
FORMATS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".docx": "docx", ".vtt": "vtt", ".srt": "srt"}
MANIFESTS = {".yaml", ".yml", ".json"}
LONG_TURN = 2000  # characters: a turn this long usually hides a missing speaker label (dry-run warning)


@dataclass
class IngestReport:
    """What an ingest (or ``prepare``) found: the transcripts imported (or to import), files skipped as
    already imported, errors, and speakers nobody mapped."""

    imported: list[Transcript] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, name it was imported as)
    errors: list[str] = field(default_factory=list)  # "file: problem" of files that cannot be imported
    errors_ja: list[str] = field(default_factory=list)  # the same in Japanese where known, else as in errors

    unmapped: dict[str, list[str]] = field(default_factory=dict)  # transcript name → speakers nobody mapped

    def unknown_speakers(self) -> dict[str, list[str]]:
        """Per imported transcript (by name) its speakers nobody mapped (``speakers.is_unmapped``): their
        perspective is ``unknown`` by default, not by a decision."""
        return {t.name: self.unmapped[t.name] for t in self.imported if self.unmapped.get(t.name)}


def load_manifest(path: Path) -> dict[str, dict]:
    """``{file name: {case, title, speakers: {name: perspective}, document, perspective}}`` from a manifest."""
    try:
        raw = path.read_text(encoding="utf-8")
        data = json.loads(raw) if path.suffix == ".json" else yaml.safe_load(raw)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise IngestError(
            path, f"cannot read manifest: {exc}", ja=f"取り込み設定ファイル（マニフェスト）を読めません（{exc}）"
        ) from exc
    entries = data.get("files") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "file" in e for e in entries):
        raise IngestError(
            path,
            "not a transcript and not a manifest (a list of {file:, case:, speakers:} entries)",
            ja="文字起こしでも取り込み設定ファイル（file・case・speakers の一覧）でもありません",
        )
    out = {}
    for e in entries:
        spk = e.get("speakers")
        try:
            mapping = (
                {speakers.normalize_label(k): speakers.perspective_id(v) for k, v in spk.items()}
                if isinstance(spk, dict)
                else {}
            )
            perspective = speakers.perspective_id(e["perspective"]) if e.get("perspective") else None
        except speakers.SpeakerMapError as exc:
            raise IngestError(path, f"{e['file']}: {exc}") from exc
        out[Path(e["file"]).name] = {
            "case": e.get("case"),
            "title": e.get("title"),
            "speakers": mapping,
            "document": bool(e.get("document")),
            "perspective": perspective,
        }
    return out


def read_transcript(path: Path, name: str, known_labels: set[str] = frozenset(), document: bool = False) -> Transcript:
    """Read, decode and parse one file into turns (no NLP yet); IngestError names the file and the problem."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(
            path,
            f"unsupported file type {path.suffix or '(none)'!r}; supported: {', '.join(sorted(FORMATS))}",
            ja=f"この種類のファイル（{path.suffix or '拡張子なし'}）は取り込めません"
            f"（取り込めるもの：{'、'.join(sorted(FORMATS))}）",
        )
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise IngestError(
                path,
                f"file is {size / 2**20:.1f} MiB; the limit is {MAX_BYTES // 2**20} MiB "
                "(split the transcript into several files)",
                ja=f"ファイルが {size / 2**20:.1f} MiB あり、上限の {MAX_BYTES // 2**20} MiB を"
                "超えています（文字起こしをいくつかのファイルに分けてください）",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(
            path, f"cannot read file: {exc.strerror or exc}", ja=f"ファイルを読めません（{exc.strerror or exc}）"
        ) from exc
    sha = hashlib.sha256(data).hexdigest()
    if fmt == "docx":
        parsed = formats.read(data, str(path), fmt, known_labels, document)
        original, encoding = parsed.text, "docx"
    else:
        original, encoding = decode(data, str(path))
        parsed = formats.read(formats.newlines(original), str(path), fmt, known_labels, document)
    if not parsed.turns:
        raise IngestError(
            path,
            "no text to import (only markers, headings or front matter)",
            ja="取り込める発言がありません（記号・見出し・冒頭の書誌情報だけのファイルです）",
        )
    return Transcript(
        name=name,
        source_file=path.name,
        sha256=sha,
        encoding=encoding,
        format=fmt,
        original=original,
        text=parsed.text,
        turns=parsed.turns,
        layout=parsed.layout,
        notes=parsed.notes,
    )


def _unique_name(stem: str, taken: set[str]) -> str:
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}-{n}", n + 1
    taken.add(name)
    return name


def prepare(
    db,
    paths: list[str | Path],
    case: str | None = None,
    speaker_map: dict[str, str] | None = None,
    document: bool = False,
    perspective: str | None = None,
) -> IngestReport:
    """Read every file (no NLP, nothing written): the transcripts an ingest would import, with their
    turns' perspectives, the files already imported, and the errors (``report.errors``).

    ``document``: read every file as a speaker-less document; ``perspective``: the perspective of
    document turns (default ``document``). A manifest entry can set both per file.
    """
    paths = [Path(p) for p in paths]
    manifest: dict[str, dict] = {}
    report = IngestReport()
    for p in paths:
        if p.suffix.lower() in MANIFESTS:
            try:
                manifest |= load_manifest(p)
            except IngestError as exc:
                report.errors.append(str(exc))
                report.errors_ja.append(exc.ja or str(exc))
    explicit = dict(speaker_map or {})
    known = store.known_speakers(db)
    seen, names = store.known_sha256(db), store.known_names(db)
    for p in (p for p in paths if p.suffix.lower() not in MANIFESTS):
        meta = manifest.get(p.name, {})
        mapping = explicit | meta.get("speakers", {})
        try:
            t = read_transcript(p, p.stem, set(mapping) | set(known), document or meta.get("document", False))
        except IngestError as exc:
            report.errors.append(str(exc))
            report.errors_ja.append(exc.ja or str(exc))
            continue
        if t.sha256 in seen:
            report.skipped.append((str(p), seen[t.sha256]))
            continue
        t.name, t.case, t.title = _unique_name(p.stem, names), meta.get("case") or case, meta.get("title")
        seen[t.sha256] = t.name
        for turn in t.turns:
            turn.perspective = (
                (meta.get("perspective") or perspective or "document")
                if t.layout == "document"
                else speakers.resolve(turn.speaker, mapping, known)
            )
        report.unmapped[t.name] = sorted(
            {
                turn.speaker
                for turn in t.turns
                if t.layout != "document" and speakers.is_unmapped(turn.speaker, turn.perspective, mapping, known)
            }
        )
        report.imported.append(t)
    return report


def ingest(
    db,
    paths: list[str | Path],
    nlp=None,
    case: str | None = None,
    speaker_map: dict[str, str] | None = None,
    n_process: int = 1,
    progress=None,
    document: bool = False,
    perspective: str | None = None,
) -> IngestReport:
    """Import transcript files into the project ``db`` (all or nothing); see the module docstring.

    Raises CoderError listing every file that cannot be imported (then nothing is written).
    """
    report = prepare(db, paths, case, speaker_map, document, perspective)
    if report.errors:
        raise CoderError(
            "nothing was imported:\n" + "\n".join(f"  {e}" for e in report.errors), ja="／".join(report.errors_ja)
        )
    if report.imported:
        from .segment import load_nlp, segment_transcripts

        segment_transcripts(nlp or load_nlp(), report.imported, n_process=n_process, progress=progress)
        store.store_transcripts(db, report.imported)
    return report


SINGLE_TURN = "speaker with a single turn (a typo in a label, or a line such as 'ポイント：' read as a speaker?)"
LONG = f"turn over {LONG_TURN:,} characters (a missing speaker label?)"
TIME_IN_WORDS = "time code inside the words"
LABEL_IN_WORDS = "'名前：' label inside the words (two turns run together?)"
OUTSIDE = "lines outside any turn"


def warnings(t: Transcript) -> list[Note]:
    """What a user should look at before importing ``t`` (read, not yet segmented): speakers with a
    single turn, turns over ``LONG_TURN`` characters, time codes or ``名前：`` labels inside a turn's
    words, lines outside every turn. ``Note.what`` is one of the module's constants (SINGLE_TURN …);
    ``where`` names the speaker or the turn (1-based)."""
    if t.layout == "document":
        return []
    out = []
    counts = Counter(turn.speaker for turn in t.turns)
    for name, n in counts.items():
        if n == 1 and len(counts) > 1:
            out.append(Note(f"speaker {name}", SINGLE_TURN))
    names = "|".join(re.escape(n) for n in sorted(counts, key=len, reverse=True)) or "(?!)"
    glued = re.compile(rf"[。！？!?」』）)][ \t\u3000]*(?:{names})[ \t\u3000]*[：:]")  # two turns on one line
    opens = re.compile(rf"(?:{names})[ \t\u3000]+\S")  # a line opening with a speaker's name: 聞き手 ありがとう…
    for i, turn in enumerate(t.turns, 1):
        words = t.text[turn.start : turn.end]
        where = f"turn {i} ({turn.speaker})"
        if len(words) > LONG_TURN:
            out.append(Note(where, LONG, f"{len(words):,} characters: 「{_first_words(words, 20)}」"))
        stamp = TIMECODE_IN_WORDS.search(words)
        if stamp:
            out.append(Note(where, TIME_IN_WORDS, stamp.group(0).strip()))
        lines = [line.strip() for line in words.split("\n")[1:]]
        suspects = [line for line in lines if classify(line, t.format).kind == "label" or opens.match(line)]
        glue = glued.search(words)
        if suspects or glue:
            out.append(Note(where, LABEL_IN_WORDS, _first_words(suspects[0] if suspects else glue.group(0), 20)))
    left = [n.where for n in t.notes if n.what.startswith(("left out (outside", "left out (before"))]
    if left:
        out.append(Note("; ".join(left), OUTSIDE))
    return out


def speaker_summary(t: Transcript, n: int = 30) -> list[tuple[str, str, int, str]]:
    """``(speaker, perspective, turns, first words)`` per speaker of ``t``, in order of first turn;
    the first words are at most ``n`` characters (the dry run and the web preview show them)."""
    out: dict[str, list] = {}
    for turn in t.turns:
        out.setdefault(turn.speaker, [turn.perspective, 0, t.text[turn.start : turn.end]])[1] += 1
    return [(name, p, count, _first_words(first, n)) for name, (p, count, first) in out.items()]


def _first_words(text: str, n: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"

"""Files → stored, segmented transcripts.

An ingest call is one transaction: every file is read, decoded, parsed and
segmented first; only if all succeed is anything written. A file whose bytes
(sha256) are already in the project is reported as already imported and skipped.
A YAML/JSON manifest given among the files supplies each file's case, title and
speaker map (see ``corpus/metadata.yaml``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import db as store
from . import speakers
from .decode import decode
from .errors import CoderError, IngestError
from .formats import docx_text, parse_labelled, parse_subtitles
from .types import Transcript

MAX_BYTES = 20 * 1024 * 1024  # 20 MiB: far above any interview transcript, well below memory trouble
FORMATS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".docx": "docx", ".vtt": "vtt",
           ".srt": "srt"}
MANIFESTS = {".yaml", ".yml", ".json"}


@dataclass
class IngestReport:
    imported: list[Transcript] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, name it was imported as)

    def unknown_speakers(self) -> dict[str, list[str]]:
        out = {}
        for t in self.imported:
            names = sorted({turn.speaker for turn in t.turns if turn.perspective == "unknown"})
            if names:
                out[t.name] = names
        return out


def load_manifest(path: Path) -> dict[str, dict]:
    """``{file name: {case, title, speakers: {name: perspective}}}`` from a manifest file."""
    try:
        raw = path.read_text(encoding="utf-8")
        data = json.loads(raw) if path.suffix == ".json" else yaml.safe_load(raw)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise IngestError(path, f"cannot read manifest: {exc}") from exc
    entries = data.get("files") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "file" in e for e in entries):
        raise IngestError(path, "not a transcript and not a manifest (a list of {file:, case:, speakers:} entries)")
    out = {}
    for e in entries:
        spk = e.get("speakers")
        try:
            mapping = {speakers.normalize_label(k): speakers.perspective_id(v)
                       for k, v in spk.items()} if isinstance(spk, dict) else {}
        except speakers.SpeakerMapError as exc:
            raise IngestError(path, f"{e['file']}: {exc}") from exc
        out[Path(e["file"]).name] = {"case": e.get("case"), "title": e.get("title"), "speakers": mapping}
    return out


def read_transcript(path: Path, name: str, known_labels: set[str] = frozenset()) -> Transcript:
    """Read, decode and parse one file into turns (no NLP yet)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(path, f"unsupported file type {path.suffix or '(none)'!r}; "
                                f"supported: {', '.join(sorted(FORMATS))}")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise IngestError(path, f"file is {size / 2**20:.1f} MiB; the limit is {MAX_BYTES // 2**20} MiB "
                                    "(split the transcript into several files)")
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(path, f"cannot read file: {exc.strerror or exc}") from exc
    sha = hashlib.sha256(data).hexdigest()
    if fmt == "docx":
        original = text = docx_text(data, str(path))
        encoding = "docx"
    else:
        original, encoding = decode(data, str(path))
        text = original.replace("\r\n", "\n").replace("\r", "\n")
    if fmt in ("vtt", "srt"):
        text, turns = parse_subtitles(text, str(path), fmt)
    else:
        turns = parse_labelled(text, str(path), fmt, known_labels)
    return Transcript(name=name, source_file=path.name, sha256=sha, encoding=encoding, format=fmt,
                      original=original, text=text, turns=turns)


def _unique_name(stem: str, taken: set[str]) -> str:
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}-{n}", n + 1
    taken.add(name)
    return name


def ingest(db, paths: list[str | Path], nlp=None, case: str | None = None, speaker_map: dict[str, str] | None = None,
           n_process: int = 1, progress=None) -> IngestReport:
    """Import transcript files into the project ``db`` (all or nothing); see the module docstring."""
    paths = [Path(p) for p in paths]
    manifest: dict[str, dict] = {}
    for p in paths:
        if p.suffix.lower() in MANIFESTS:
            manifest |= load_manifest(p)
    explicit = dict(speaker_map or {})
    known = store.known_speakers(db)
    seen, names = store.known_sha256(db), store.known_names(db)
    report, errors = IngestReport(), []
    for p in (p for p in paths if p.suffix.lower() not in MANIFESTS):
        meta = manifest.get(p.name, {})
        mapping = explicit | meta.get("speakers", {})
        try:
            t = read_transcript(p, p.stem, set(mapping) | set(known))
        except IngestError as exc:
            errors.append(str(exc))
            continue
        if t.sha256 in seen:
            report.skipped.append((str(p), seen[t.sha256]))
            continue
        t.name, t.case, t.title = _unique_name(p.stem, names), meta.get("case") or case, meta.get("title")
        seen[t.sha256] = t.name
        for turn in t.turns:
            turn.perspective = speakers.resolve(turn.speaker, mapping, known)
        report.imported.append(t)
    if errors:
        raise CoderError("nothing was imported:\n" + "\n".join(f"  {e}" for e in errors))
    if report.imported:
        from .segment import load_nlp, segment_transcripts

        segment_transcripts(nlp or load_nlp(), report.imported, n_process=n_process, progress=progress)
        store.store_transcripts(db, report.imported)
    return report

"""REFI-QDA files from other tools (NVivo, ATLAS.ti, MAXQDA, QualCoder) or from coder → the project.

One call is one transaction: everything in the file is imported, or nothing. The rules:

- **Sources → transcripts.** A text source whose file has the bytes of an existing transcript, or
  whose text equals one's, is that transcript (only its codings are added). Otherwise its text is
  read like an ingested text file (``formats.read_text``: the layout is decided per source) and
  segmented; a source without a consistent speaker pattern (a paper, field notes) becomes a
  document, one turn per paragraph, perspective ``document``. Line ends are normalised as ingest
  does (``formats.newlines``).
- **Offsets** are code points of the source text as written, end exclusive; a ``\\r\\n`` the
  normalisation removes shifts later offsets by one.
- **Selections → segments.** A selection codes every segment it covers at least half of; if it covers
  none by half, the one segment it overlaps most (a short quote codes its sentence). Selections that
  overlap no segment (text outside any turn, such as a title) are reported.
- **Codes** match by GUID (coder's own exports), else by name: a codebook code's Japanese name,
  English name or id (NFKC, case-insensitive). Others become user codes (``user_codes``); their
  codings store ``user:<guid>``, which agreement and the matrix (codebook codes only) leave out.
- **Users → coder names**: NFKC, spaces, ``:``, ``,`` and slashes → ``_``, at most 40 characters;
  ``consensus``, ``all`` and ``model…`` (any case) get ``user_`` in front: they name coder's own
  layers (``coder.layers``), and a user of another tool is an analyst. Renames are reported.
- **The model's suggestions** (a user named ``model:<suggesters>``, as coder names that layer) are
  left out of any file — coder's own, or one another tool re-saved with the user's name kept — and
  counted in the report: they were never confirmed by anyone.
- **Coder's own export** (``own_export``: the origin, the ``coder`` variable and coder's ``User``
  GUID for the name) keeps ``NAME:recode`` as that layer. Its ``consensus`` stays the adjudicated
  layer only when the importer asks for it (``keep_consensus``, ``--keep-consensus``): every marker
  of an own export can be written by anyone, and an adjudicated layer is a supervisor's decision.
  Otherwise it is renamed like a foreign one, and the report says how to keep it.
- **Notes → memos** (``_import_notes``): on a selection, a memo on the first segment it covers; on a
  source, a transcript memo; on a code that maps to a codebook code, a codebook clarification (kind
  ``code``) on it; on any other code (a user code), a project memo starting with the code's name
  (``［name］text``); coder's case notes, a case memo; any other, a project memo; the author is the
  note's user (named like a coder). A note already imported is not added again.
- **Cell summaries** (``_import_summaries``): coder's summary notes (named ``CELL_NOTE`` + a JSON
  key) become the matrix cells' summaries again, linked to the segments their ranges cover; one on a
  cell that has a different summary here, or on a row, code or grouping this project lacks, becomes a
  project memo (``［セルの要約：…］text``), so nothing is lost and nothing here is overwritten.
- **Finished segments** (what agreement counts as "absent" rather than "missing") come from the
  ``coder`` variable of coder's own exports; otherwise a coder who coded in a source is taken to
  have read all of it (REFI tools code whole documents), unless they already finished segments of
  that transcript here.
- **Variables → attributes** (``coder.attributes``): a source's variables other than coder's own two
  (``話者の立場``, ``coder``) become its transcript's attributes, a case's variables (NVivo
  classifications) that case's, where the project has the case.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from . import db as store
from . import speakers
from .coding import record_imported
from .errors import CoderError
from .formats import newlines, read_text
from .ingest import _unique_name
from .layers import CONSENSUS, MODEL, RECODE, is_analyst
from .qda import read_qdc, read_qdpx
from .refi_vocab import CASE_NOTE, CELL_NOTE, META_VARIABLE, ORIGIN, SPEAKERS_VARIABLE, cell_key, guid, norm_guid
from .types import Transcript

FORMATS = ("txt", "md", "docx", "vtt", "srt")


@dataclass
class ImportReport:
    """What a REFI-QDA import (``import_qdpx``, ``import_qdc``) did: transcripts, codings, coders, codes
    mapped or added, memos, summaries, attributes, and what was left out."""

    file: str
    codebook_only: bool = False  # a .qdc
    transcripts: list[tuple[str, int, bool, int]] = field(default_factory=list)  # name, id, new, segments
    notes: list[str] = field(default_factory=list)  # per-source remarks (text found elsewhere, no labels…)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    selections: int = 0
    unmatched: list[str] = field(default_factory=list)  # "source [start:end] why"
    codings_in_file: int = 0
    codings: int = 0  # (segment, code, coder) rows written
    coders: dict[str, str] = field(default_factory=dict)  # name in the file → coder name
    renamed: dict[str, str] = field(default_factory=dict)  # reserved layer names of a foreign file → coder name
    layers_kept: list[str] = field(default_factory=list)  # consensus, NAME:recode of coder's own export
    model_layers: list[str] = field(default_factory=list)  # model:… users of coder's own export (left out)
    suggestions_left_out: int = 0
    consensus_not_kept: bool = False  # coder's own consensus layer renamed (no --keep-consensus)
    mapped: dict[str, str] = field(default_factory=dict)  # code name in the file → codebook id
    by_name: list[str] = field(default_factory=list)  # of those, the ones matched by name, not GUID
    user_codes: list[str] = field(default_factory=list)  # names of user codes added
    known_user_codes: int = 0
    unknown_code_refs: int = 0
    user_code_codings: int = 0
    interviewer_codings: int = 0
    whole_source_codings: int = 0
    reviews: str = ""
    memos: int = 0  # notes imported as memos
    summaries: int = 0  # coder's cell summaries imported as summaries
    attributes: int = 0  # attribute values set from source and case variables

    def summary(self) -> list[str]:
        new = sum(1 for t in self.transcripts if t[2])
        lines = [
            f"{self.file}: codebook"
            if self.codebook_only
            else f"{self.file}: {len(self.transcripts)} source(s) imported ({new} new transcript(s), "
            f"{len(self.transcripts) - new} matched existing ones), {len(self.skipped)} skipped"
        ]
        lines += [
            f"  {'imported' if n else 'matched '} {name!r} (id {tid}): {segs} segments"
            for name, tid, n, segs in self.transcripts
        ]
        lines += [f"  note: {n}" for n in self.notes] + [f"  skipped {n!r}: {why}" for n, why in self.skipped]
        if self.selections or self.codings_in_file:
            lines.append(
                f"selections: {self.selections}, {self.selections - len(self.unmatched)} mapped onto "
                f"segments, {len(self.unmatched)} matching no segment"
            )
            lines += [f"  no segment: {u}" for u in self.unmatched[:20]]
            lines += [f"  … and {len(self.unmatched) - 20} more"] if len(self.unmatched) > 20 else []
            who = ", ".join(f"{c} (from {n!r})" if c != n else c for n, c in self.coders.items()) or "nobody"
            lines.append(f"codings: {self.codings_in_file} in the file → {self.codings} segment codings by {who}")
            lines += self._layer_lines()
        lines.append(
            f"codes: {len(self.mapped)} mapped to the codebook, {len(self.user_codes)} added as user codes"
            + (f", {self.known_user_codes} user codes already known" if self.known_user_codes else "")
        )
        lines += [f"  {name} → {self.mapped[name]}" for name in self.by_name if name != self.mapped[name]]
        if self.user_codes:
            shown = ", ".join(self.user_codes[:15]) + (" …" if len(self.user_codes) > 15 else "")
            lines.append(f"  not in the codebook (user codes): {shown}")
        for count, text in (
            (
                self.user_code_codings,
                "codings of user codes: kept, but agreement and the matrix count codebook codes only",
            ),
            (self.unknown_code_refs, "codings refer to no code in the file: not imported"),
            (self.whole_source_codings, "codings of whole sources (no selection): not imported"),
            (
                self.interviewer_codings,
                "codings on interviewer turns: kept, not shown while the speaker is an interviewer",
            ),
        ):
            if count:
                lines.append(f"  {count} {text}")
        lines += (
            [f"attributes: {self.attributes} value(s) set from variables (see `coder attributes`)"]
            if self.attributes
            else []
        )
        lines += [f"memos: {self.memos} note(s) imported (see `coder memos`)"] if self.memos else []
        lines += (
            [
                f"summaries: {self.summaries} cell summar{'y' if self.summaries == 1 else 'ies'} imported "
                "(see `coder summaries`)"
            ]
            if self.summaries
            else []
        )
        return lines + ([f"finished segments: {self.reviews}"] if self.reviews else [])

    def _layer_lines(self) -> list[str]:
        """What happened to users that name coder's layers (kept, left out, renamed)."""
        lines = []
        if self.suggestions_left_out:
            lines.append(
                f"  left out {self.suggestions_left_out} unconfirmed model suggestions (提案のみ・未確認) by "
                f"{', '.join(self.model_layers)}: suggestions are not codings (`coder suggest` scores "
                "segments here)"
            )
        for name in self.layers_kept:
            lines.append(
                f"  {name}: kept as the consensus layer; decided in the project that exported the file "
                "(adjudicated by its supervisor, or agreed by its analysts), not here"
                if name == CONSENSUS
                else f"  {name}: kept as {name[: -len(RECODE)]}'s blind re-coding (intra-coder agreement), "
                "not as an analyst"
            )
        lines += [
            f"  renamed {old!r} → {new}: a layer name coder reserves (consensus, all, model…, NAME:recode)"
            + (
                ", imported as an analyst; if you trust this file's adjudication, import it again into a fresh "
                "project with --keep-consensus"
                if old == CONSENSUS and self.consensus_not_kept
                else ", in a file coder did not export"
            )
            for old, new in self.renamed.items()
        ]
        return lines


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name or "").strip().casefold()


def coder_name(name: str, taken: set[str]) -> str:
    """A coder name for a user of another tool (see the module docstring), unique among ``taken``."""
    base = re.sub(r"[\s:,/\\]+", "_", unicodedata.normalize("NFKC", name or "").strip()).strip("_")[:40] or "imported"
    if base.casefold() in (CONSENSUS, "all") or base.casefold().startswith(MODEL):
        base = f"user_{base}"[:40]
    out, n = base, 2
    while out in taken:
        out, n = f"{base}-{n}", n + 1
    taken.add(out)
    return out


def _map_codes(db, codes, codebook, report: ImportReport) -> dict[str, str]:
    """{file code guid: our code string}; adds the unmatched ones to ``user_codes``."""
    # a code merged into another (coder code merge) brings its codings to the code it became
    by_name = {_key(k): c.merged_into or c.id for c in codebook.codes for k in (c.id, c.name_en, c.name) if k}
    by_guid = {guid("code", c.id): c.merged_into or c.id for c in codebook.codes}
    known = {u["guid"] for u in store.user_codes(db)}
    out = {}
    for code in codes:  # parents come before their children
        mapped = by_guid.get(code.guid) or by_name.get(_key(code.name))
        if mapped:
            out[code.guid] = report.mapped[code.name] = mapped
            report.by_name += [] if code.guid in by_guid else [code.name]
            continue
        out[code.guid] = f"user:{code.guid}"
        if code.guid in known:
            report.known_user_codes += 1
            continue
        known.add(code.guid)
        db["user_codes"].insert(
            {
                "name": code.name or code.guid,
                "guid": code.guid,
                "description": code.description,
                "parent": out.get(code.parent),
                "codable": int(code.codable),
                "created_at": store.now(),
            }
        )
        report.user_codes.append(code.name or code.guid)
    return out


def _add_own_codes(db, project, codebook, report: ImportReport):
    """Codes coder's own export says were added while coding (its ``coder`` variable, ``codes``) and
    that this project's codebook lacks: added with their id, name, parent and definition, retired if
    they were; codes the codebook has are left as they are here. Returns the codebook after."""
    from .codebook_edit import add_code, retire_code

    added = {}
    for src in project.sources:
        added.update(_meta(src).get("codes") or {})
    for code in project.codes:  # parents come before their children
        spec = added.get(code.guid)
        if not spec or spec["id"] in codebook.ids:
            continue
        parent = spec.get("parent") if spec.get("parent") in codebook.ids else None
        codebook = add_code(
            db, f"import:{Path(report.file).name}", spec["id"], spec["name"], parent, spec.get("definition") or ""
        )
        if spec.get("status") == "retired":
            codebook = retire_code(db, f"import:{Path(report.file).name}", spec["id"])
        report.notes.append(
            f"code {spec['id']!r} ({spec['name']}) added to the codebook as in the exporting project"
            + (", retired" if spec.get("status") == "retired" else "")
        )
    return codebook


def import_qdc(db, path: str | Path, codebook) -> ImportReport:
    """Map a ``.qdc`` codebook's codes onto the codebook; add the others as user codes (one transaction)."""
    report = ImportReport(file=str(path), codebook_only=True)
    codes = read_qdc(path)
    with store.immediate(db):
        _map_codes(db, codes, codebook, report)
    return report


def _shift(raw: str):
    """Offset in ``raw`` → offset after ``\\r\\n`` → ``\\n`` (as ingest normalises line ends)."""
    crlf = [m.start() for m in re.finditer("\r\n", raw)]
    return lambda i: i - bisect.bisect_left(crlf, i) if crlf else i


def covered(segs: list[dict], starts: list[int], start: int, end: int, closest: bool = True) -> list[dict]:
    """Segments (sorted by start) a selection covers at least half of; else the one it overlaps most."""
    i, hits, best = max(bisect.bisect_right(starts, start) - 1, 0), [], None
    while i < len(segs) and segs[i]["start"] < end:
        s = segs[i]
        overlap = min(end, s["end"]) - max(start, s["start"])
        if overlap > 0 and 2 * overlap >= s["end"] - s["start"]:
            hits.append(s)
        if overlap > 0 and (best is None or overlap > best[0]):
            best = (overlap, s)
        i += 1
    return hits or ([best[1]] if best and closest else [])


def _speaker_map(value: str) -> dict[str, str]:
    out = {}
    for line in (value or "").splitlines():
        name, sep, pid = line.rpartition("=")
        if sep and name.strip():
            try:
                out[speakers.normalize_label(name)] = speakers.perspective_id(pid)
            except speakers.SpeakerMapError:
                continue
    return out


def _transcript(src, project, path: Path, names: set[str], mapping: dict, known: dict, case, report) -> Transcript:
    """A new transcript (turns with perspectives, not yet segmented) from a source."""
    text = newlines(src.text)
    meta = _meta(src)
    fmt = meta.get("format") if meta.get("format") in FORMATS else "txt"
    parsed = read_text(
        text, "md" if fmt == "md" else "txt", set(mapping) | set(known), meta.get("layout") == "document"
    )
    turns = parsed.turns
    if parsed.layout == "document":
        report.notes.append(
            f"{src.name!r}: {parsed.notes[0].what if parsed.notes else 'a document'}; one turn per "
            "paragraph, perspective document (change it with `coder speakers set 文書 PERSPECTIVE "
            "--transcript NAME`)"
        )
    for turn in turns:
        turn.perspective = "document" if parsed.layout == "document" else speakers.resolve(turn.speaker, mapping, known)
    unknown = sorted({t.speaker for t in turns if speakers.is_unmapped(t.speaker, t.perspective, mapping, known)})
    if unknown:
        shown = ", ".join(unknown[:12]) + (f" … ({len(unknown)} in all)" if len(unknown) > 12 else "")
        report.notes.append(
            f"{src.name!r}: speakers without a perspective: {shown} (fix with `coder speakers set SPEAKER PERSPECTIVE`)"
        )
    sha = hashlib.sha256(src.raw or text.encode("utf-8")).hexdigest()
    return Transcript(
        name=_unique_name(src.name, names),
        source_file=path.name,
        sha256=sha,
        encoding=src.encoding,
        format=fmt,
        original=src.text,
        text=text,
        turns=turns,
        layout=parsed.layout,
        notes=parsed.notes,
        case=project.cases.get(src.guid) or case,
        title=src.description or None,
    )


def _meta(src) -> dict:
    try:
        meta = json.loads(src.variables.get(META_VARIABLE) or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def import_qdpx(
    db,
    path: str | Path,
    codebook,
    nlp=None,
    case: str | None = None,
    speaker_map: dict[str, str] | None = None,
    keep_consensus: bool = False,
) -> ImportReport:
    """Import a ``.qdpx`` (see the module docstring); CoderError names the file and writes nothing.
    ``keep_consensus``: coder's own export's ``consensus`` layer stays the adjudicated layer."""
    path = Path(path)
    project = read_qdpx(path)
    report = ImportReport(file=str(path), skipped=list(project.skipped))
    known, names = store.known_speakers(db), store.known_names(db)
    existing = {}  # sha256 of the file, or the text → transcript id (or a new Transcript)
    for r in db.query("select id, sha256, text from transcripts"):
        existing[r["sha256"]] = existing[r["text"]] = r["id"]
    plans, new = [], []
    for src in project.sources:
        report.notes += [f"{src.name!r}: {src.note}"] if src.note else []
        text = newlines(src.text)
        match = existing.get(hashlib.sha256(src.raw).hexdigest() if src.raw else None) or existing.get(text)
        if match is None:
            mapping = dict(speaker_map or {}) | _speaker_map(src.variables.get(SPEAKERS_VARIABLE))
            match = _transcript(src, project, path, names, mapping, known, case, report)
            new.append(match)
            existing[match.sha256] = existing[text] = match
        plans.append((src, match))
        report.whole_source_codings += src.whole_source_codings
    if new:
        from .segment import load_nlp, segment_transcripts

        segment_transcripts(nlp or load_nlp(), new)
        for src, t in plans:
            if any(t is n for n in new):
                _restore_times(t, _meta(src).get("times"))
    with store.immediate(db):
        codebook = _add_own_codes(db, project, codebook, report) if own_export(project) else codebook
        codes = _map_codes(db, project.codes, codebook, report)
        store.store_transcripts(db, new)
        coder_of = _Coders(project, report, keep_consensus)
        for src, t in plans:
            tid = t if isinstance(t, int) else t.id
            count = _code_source(db, src, tid, codes, coder_of, report, codebook.version_tag, path.name)
            report.transcripts.append((db["transcripts"].get(tid)["name"], tid, any(t is n for n in new), count))
        report.memos = _import_notes(
            db, project, [(src, t if isinstance(t, int) else t.id) for src, t in plans], codes, codebook
        )
        report.attributes = _store_attributes(db, project, plans, path.name)
        ids = [(src, t if isinstance(t, int) else t.id) for src, t in plans]
        summaries, memos = _import_summaries(db, project, ids, codebook)  # after the attributes: values are rows
        report.summaries, report.memos = summaries, report.memos + memos
    if report.codings:
        recorded = any(META_VARIABLE in src.variables for src, _ in plans)
        report.reviews = (
            "as recorded in the file"
            if recorded
            else "assumed: each coder finished every interviewee segment of the sources they coded"
        )
    return report


def _store_attributes(db, project, plans, file: str) -> int:
    """Variables other than coder's own two → attributes (``coder.attributes``): a source's of its
    transcript, a case's (NVivo classifications) of that case where the project has it."""
    from .attributes import cases, put_values

    own = (SPEAKERS_VARIABLE, META_VARIABLE)
    values = [
        ("transcript", str(t if isinstance(t, int) else t.id), name, value)
        for src, t in plans
        for name, value in src.variables.items()
        if name not in own
    ]
    known = set(cases(db))
    values += [
        ("case", case, name, value)
        for case, variables in project.case_variables.items()
        if case in known
        for name, value in variables.items()
        if name not in own
    ]
    return put_values(db, values, user="import-qdpx", source=file)


def reserved(name: str) -> bool:
    """Whether a user name in a REFI-QDA file names one of coder's layers rather than a person:
    ``consensus``, ``all``, ``model…`` (any case) or anything with ``:`` (``NAME:recode``)."""
    key = unicodedata.normalize("NFKC", name or "").strip().casefold()
    return key in (CONSENSUS, "all") or key.startswith(MODEL) or ":" in key


def own_export(project) -> bool:
    """Whether coder wrote the file: its origin and its ``coder`` variable (see ``refi_vocab``)."""
    return project.origin.startswith(ORIGIN) and any(META_VARIABLE in s.variables for s in project.sources)


class _Coders:
    """File user GUID → coding layer (None: left out), made on first use and noted in the report."""

    def __init__(self, project, report: ImportReport, keep_consensus: bool = False):
        self.project, self.report, self.own = project, report, own_export(project)
        self.keep_consensus = keep_consensus
        self.names: dict[str | None, str | None] = {}
        self.taken: set[str] = set()

    def __call__(self, user: str | None) -> str | None:
        user = user or self.project.default_user
        label = self.project.users.get(user) or (f"user-{user[:8]}" if user else "imported")
        if user not in self.names:
            self.names[user] = self._layer(label, user)
        if self.names[user] is not None:
            self.report.coders[label] = self.names[user]
        return self.names[user]

    def named(self, name: str) -> str | None:
        """The layer of the user called ``name`` (finished segments in coder's ``reviewed`` ranges)."""
        user = next((g for g, n in self.project.users.items() if n == name), None)
        if user is None:
            return coder_name(name, set())
        if user not in self.names:
            self.names[user] = self._layer(name, user)
        return self.names[user]

    def _layer(self, label: str, user: str | None) -> str | None:
        """``model:…`` left out (any file); coder's own ``NAME:recode`` kept, and its ``consensus`` if
        asked for; else an analyst."""
        if unicodedata.normalize("NFKC", label).strip().casefold().startswith(MODEL + ":"):
            self.report.model_layers.append(label)
            return None
        if self.own and reserved(label) and user == guid("user", label):
            if label == CONSENSUS and not self.keep_consensus:
                self.report.consensus_not_kept = True
            elif label == CONSENSUS or (label.endswith(RECODE) and is_analyst(label[: -len(RECODE)])):
                self.taken.add(label)
                self.report.layers_kept.append(label)
                return label
        name = coder_name(label, self.taken)
        if reserved(label):
            self.report.renamed[label] = name
        return name


def _code_source(db, src, tid: int, codes: dict, coder_of, report: ImportReport, version: str, file: str) -> int:
    """Map one source's selections onto transcript ``tid``'s segments, store the codings and finished
    segments; return the number of segments."""
    segs = list(
        db.query(
            """select s.id, s.start, s.[end], sp.perspective from segments s
                            join turns u on u.id = s.turn_id join speakers sp on sp.id = u.speaker_id
                            where s.transcript_id = ? order by s.start""",
            [tid],
        )
    )
    starts, shift, done = [s["start"] for s in segs], _shift(src.text), {}
    for sel in src.selections:
        report.selections += 1
        report.codings_in_file += len(sel.codings)
        inside = 0 <= sel.start < sel.end <= len(src.text)
        hits = covered(segs, starts, shift(sel.start), shift(sel.end)) if inside else []
        if not hits:
            excerpt = src.text[max(sel.start, 0) : sel.end][:30].replace("\n", " ")
            report.unmatched.append(f"{src.name} [{sel.start}:{sel.end}] {excerpt!r}")
            continue
        for code_guid, user in sel.codings:
            if code_guid not in codes:
                report.unknown_code_refs += 1
                continue
            if coder_of(user) is None:  # the model's suggestions: not codings
                report.suggestions_left_out += 1
                continue
            for s in hits:
                done.setdefault(coder_of(user), set()).add((s["id"], codes[code_guid], s["perspective"]))
    reviewed, at = _meta(src).get("reviewed"), store.now()
    if isinstance(reviewed, dict):  # coder's own export: offset ranges per coder name → per layer
        reviewed = {layer: ranges for name, ranges in reviewed.items() if (layer := coder_of.named(name))}
    for coder, rows in done.items():
        pairs = sorted((s, c) for s, c, _ in rows)
        report.codings += len(pairs)
        report.user_code_codings += sum(1 for _, c in pairs if c.startswith("user:"))
        report.interviewer_codings += sum(1 for *_, p in rows if p == "interviewer")
        record_imported(db, at, coder, version, pairs, _finished(db, segs, starts, tid, coder, reviewed), file=file)
    if isinstance(reviewed, dict):  # coder's own export: also the segments finished without any code
        for coder in set(reviewed) - set(done):
            record_imported(db, at, coder, version, [], _finished(db, segs, starts, tid, coder, reviewed), file=file)
    return len(segs)


def _import_notes(db, project, sources: list[tuple], codes: dict[str, str] | None = None, codebook=None) -> int:
    """The file's ``Notes`` as memos; returns how many were added. A note on a selection is a memo on
    the first segment the selection covers, on a source a transcript memo, on a code that ``codes``
    (file code guid → code, from ``_map_codes``) maps to a code of ``codebook`` a codebook
    clarification on it, on any other code a project memo starting with ``［code name］``, on the
    project a project memo; coder's case notes (named ``CASE_NOTE`` + the case) are case memos, and
    any other note a project memo. The author is the note's ``creatingUser`` (named like a coder); a
    note already imported is not added again. coder's cell summaries are left to ``_import_summaries``."""
    from .memos import add, add_memo

    done, added, codes = set(), 0, codes or {}

    def put(note_guid, code: str | None = None, prefix: str = "", **target) -> int:
        note = project.notes.get(note_guid)
        if note is None or note_guid in done or cell_key(note.name) is not None:  # summaries: _import_summaries
            return 0
        done.add(note_guid)
        when = _when(note)
        author = coder_name(project.users.get(note.user) or "imported", set())
        if code is not None:
            return add_memo(db, code, author, note.text, codebook, created_at=when, once=True) is not None
        return add(db, author, prefix + note.text, created_at=when, once=True, **target) is not None

    for src, tid in sources:
        segs = list(db.query("select id, start, [end] from segments where transcript_id = ? order by start", [tid]))
        starts, shift = [s["start"] for s in segs], _shift(src.text)
        for sel in (sel for sel in src.selections if sel.notes and 0 <= sel.start < sel.end <= len(src.text)):
            hits = covered(segs, starts, shift(sel.start), shift(sel.end))
            added += sum(put(g, segment_id=hits[0]["id"]) for g in sel.notes) if hits else 0
        added += sum(put(g, transcript=tid) for g in src.notes)
    for code in project.codes:
        mapped = codes.get(code.guid)
        if codebook is not None and mapped in codebook.ids:
            added += sum(put(g, code=mapped) for g in code.notes)
        else:  # a user code (or one the codebook lacks): keep the note, naming the code
            added += sum(put(g, prefix=f"［{code.name or code.guid}］", project=True) for g in code.notes)
    added += sum(put(g, project=True) for g in project.project_notes)
    cases = store.list_cases(db)
    for g, note in list(project.notes.items()):
        case = note.name[len(CASE_NOTE) :] if note.name.startswith(CASE_NOTE) else None
        added += put(g, case=case) if case in cases else put(g, project=True)
    return added


def _when(note) -> str | None:
    """A note's creation time as coder stores times (ISO, seconds), or None if it has none that parses."""
    from datetime import datetime

    try:
        return datetime.fromisoformat((note.created or "").replace("Z", "+00:00")).isoformat(timespec="seconds")
    except ValueError:
        return None


def _import_summaries(db, project, sources: list[tuple], codebook) -> tuple[int, int]:
    """coder's cell summary notes (``refi_vocab.cell_key``) → summaries (``coder.summaries``), linked
    to the segments of the imported sources their ranges cover by half; returns (summaries, memos)
    added. A cell with the same text here already is left alone (importing a file again); a summary
    this project cannot take — its cell has another text, or its grouping, row or code is unknown —
    becomes a project memo ``［セルの要約：grouping row × code］text``."""
    from .memos import add
    from .summaries import get_summary, set_summary

    by_guid, added, memos = {src.guid: (src, tid) for src, tid in sources}, 0, 0
    for note in project.notes.values():
        key = cell_key(note.name)
        if key is None:
            continue
        author, when, ids = coder_name(project.users.get(note.user) or "imported", set()), _when(note), []
        for source, start, end in key["segments"]:
            src, tid = by_guid.get(norm_guid(source), (None, None))
            if src is not None and 0 <= start < end <= len(src.text):
                segs = list(
                    db.query("select id, start, [end] from segments where transcript_id = ? order by start", [tid])
                )
                shift = _shift(src.text)
                ids += [s["id"] for s in covered(segs, [s["start"] for s in segs], shift(start), shift(end), False)]
        here = get_summary(db, key["grouping"], key["row"], key["code"])
        if here is not None and here["text"] == note.text:
            continue
        if here is None:
            try:
                set_summary(
                    db,
                    key["grouping"],
                    key["row"],
                    key["code"],
                    note.text,
                    user=author,
                    segment_ids=ids,
                    codebook=codebook,
                    created_at=when,
                )
                added += 1
                continue
            except CoderError:
                pass
        label = f"［{CELL_NOTE}{key['grouping']} {key['row']} × {key['code']}］"
        memos += add(db, author, label + note.text, project=True, created_at=when, once=True) is not None
    return added, memos


def _restore_times(t: Transcript, times) -> None:
    """Cue times of a subtitle transcript exported by coder (if its turns and segments still line up)."""
    if (
        not isinstance(times, dict)
        or len(times.get("turns", [])) != len(t.turns)
        or len(times.get("segments", [])) != len(t.segments)
    ):
        return
    for item, (start, end) in zip([*t.turns, *t.segments], [*times["turns"], *times["segments"]]):
        item.start_time, item.end_time = start, end


def _finished(db, segs, starts, tid, coder, reviewed) -> list[int]:
    """Segment ids ``coder`` finished: the file's ranges (segments covered by half), else the assumption."""
    if isinstance(reviewed, dict):
        out = set()
        for start, end in reviewed.get(coder, []):
            out.update(s["id"] for s in covered(segs, starts, start, end, closest=False))
        return sorted(out)
    if list(
        db.query(
            "select 1 from reviews r join segments s on s.id = r.segment_id where r.coder = ? "
            "and s.transcript_id = ? limit 1",
            [coder, tid],
        )
    ):
        return []
    return [s["id"] for s in segs if s["perspective"] != "interviewer"]

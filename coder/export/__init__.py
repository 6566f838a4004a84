"""Exports: one pure function per format, picked from one table (``EXPORTERS``).

An exporter is registered with ``@exporter(name, suffix, kind, label)`` in a module of this package
and called as ``fn(data, out, codebook, meta)``:

- ``data`` is what its ``kind`` asks for — ``"quotes"``: the rows of ``collect_quotes()`` (one per
  coded segment × code × coder, in codebook order); ``"matrix"``: ``coder.matrix.build()``'s dict;
  ``"memos"``: the memos the exporting user may see (``coder.memos.visible()``); ``"project"`` and
  ``"codebook"``: the project database itself (REFI-QDA);
- ``out`` is the ``Path`` to write;
- ``codebook`` the loaded ``Codebook``;
- ``meta`` a dict describing the export: ``source``, ``source_label`` (Japanese), ``unconfirmed``
  (True for the model's suggestions), ``by``, ``case``, ``transcript``, ``project`` (the database
  file name), ``codebook`` (its version tag), ``generated`` (ISO date), ``policy`` (the exporting
  user's ``coder.access.Policy``: which memos a project export may carry) and ``pseudonymiser`` (set
  only for a pseudonymised export; quotes, memos and matrix data then arrive pseudonymised already).

``run()`` gathers the data for a format and calls its exporter; the CLI (``coder export``) and the
web export page both call it and read this table, so a new format appears in both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import Callable

from ..errors import CoderError

MODULES = ("quotes", "tables", "refi", "memos")  # modules that register exporters
PERSPECTIVE_ORDER = ("person", "supporter", "employer", "unknown")  # quotes are grouped in this order
UNCONFIRMED = (
    "注意：モデルの提案のみに基づく書き出しです（提案のみ・未確認）。分析者による確認を経ていないため、"
    "このまま分析結果として引用しないでください。"
)


@dataclass(frozen=True)
class Exporter:
    """A registered export format: name, file suffix, the kind of data it takes (see the module
    docstring), Japanese label for the web page, and the function that writes it."""

    name: str
    suffix: str
    kind: str  # "quotes" | "matrix" | "project" | "codebook"
    label: str  # Japanese, for the web page
    fn: Callable


EXPORTERS: dict[str, Exporter] = {}


def exporter(name: str, suffix: str, kind: str, label: str):
    """Decorator: register ``fn(data, out, codebook, meta)`` in ``EXPORTERS`` as format ``name`` (file
    ``suffix``, data ``kind``, Japanese ``label``); returns ``fn`` unchanged."""

    def register(fn):
        EXPORTERS[name] = Exporter(name, suffix, kind, label, fn)
        return fn

    return register


def load() -> dict[str, Exporter]:
    """Every exporter (importing the modules that define them)."""
    for module in MODULES:
        try:
            import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
    return EXPORTERS


def get(name: str) -> Exporter:
    """The exporter called ``name`` (every exporter module loaded first); ``CoderError`` listing the formats
    for an unknown name."""
    table = load()
    if name not in table:
        raise CoderError(f"unknown export format {name!r} (choose one of: {', '.join(sorted(table))})")
    return table[name]


def file_name(name: str, source: str = "consensus") -> str:
    """A default file name such as ``coder-quotes-consensus.xlsx`` (no characters any system rejects)."""
    safe = re.sub(r"[^\w-]+", "_", source).strip("_") or "export"
    return f"coder-{name.rsplit('-', 1)[0]}-{safe}{get(name).suffix}"


def collect_quotes(
    db,
    codebook,
    source: str = "consensus",
    case: str | None = None,
    transcript: str | int | None = None,
    policy=None,
    where: dict[str, str] | None = None,
) -> list[dict]:
    """``layers.coded_rows`` of one source, limited to a case, a transcript and the transcripts with the
    attribute values ``where`` ({name: value}), sorted by code (codebook order), perspective,
    transcript, offset and coder; each row's ``memos`` are the segment's memos ``policy`` (default the
    project owner) may see, as {author, text}."""
    from .. import db as store
    from .. import memos
    from ..access import Policy
    from ..layers import coded_rows

    rows = coded_rows(db, source, codebook.ids)
    if transcript is not None:
        tid = store.find_transcript(db, transcript)["id"]
        rows = [r for r in rows if r["transcript_id"] == tid]
    if case is not None:
        rows = [r for r in rows if r["case_name"] == case]
    if where:
        from ..attributes import transcripts_where

        keep = transcripts_where(db, where)
        rows = [r for r in rows if r["transcript_id"] in keep]
    notes = memos.by_segment(db, policy or Policy.owner(), sorted({r["segment_id"] for r in rows}))
    rows = [
        {**r, "memos": [{"author": m["author"], "text": m["text"]} for m in notes.get(r["segment_id"], [])]}
        for r in rows
    ]
    order = {c: i for i, c in enumerate(codebook.ids)}
    return sorted(
        rows, key=lambda r: (order[r["code"]], _rank(r["perspective"]), r["transcript"], r["start"], r["coder"])
    )


# What XML 1.0 (XLSX, DOCX, QDA-XML) cannot hold: C0 controls but tab and line ends, U+FFFE/U+FFFF, lone surrogates
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value):
    """``value`` as an XML-based file can hold it: a string's characters XML cannot hold are replaced one
    for one (a C0 control by its Unicode control picture, ␟ for U+001F; the others by U+FFFD), so the
    text keeps its length and offsets; everything else, and non-strings, as they are. Decoding lets a
    few stray controls into a transcript, and openpyxl, python-docx and lxml refuse them."""
    if not isinstance(value, str) or not _NOT_XML.search(value):
        return value
    return _NOT_XML.sub(lambda m: chr(0x2400 + ord(m[0])) if m[0] < " " else "\ufffd", value)


def _rank(perspective: str) -> tuple:
    return (PERSPECTIVE_ORDER.index(perspective), "") if perspective in PERSPECTIVE_ORDER else (99, perspective)


def run(
    db,
    name: str,
    out,
    codebook,
    source: str | None = None,
    by: str = "perspective",
    case: str | None = None,
    transcript: str | int | None = None,
    policy=None,
    pseudonymise=False,
    where: dict[str, str] | None = None,
) -> Path:
    """Write export ``name`` to ``out`` (a file, or a folder to put ``file_name()`` in); return the path.

    ``source`` defaults to ``consensus`` (the final codes) for quotes and the matrix, and to ``all``
    (every analyst's own codings, as REFI-QDA users) for a project. ``policy`` (a
    ``coder.access.Policy``; default the project owner) must allow the source: it raises
    ``NotFound``/``Forbidden`` otherwise, before anything is written.

    ``pseudonymise`` (True, or a ``coder.pseudonymise.Pseudonymiser`` whose ``used`` the caller reads
    for the key table) replaces listed names by placeholders in everything written — quote texts,
    speakers, transcripts, cases, REFI-QDA sources — with offsets into the pseudonymised text; it
    reaches the REFI-QDA exporters as ``meta["pseudonymiser"]``. The stored text is not changed.

    ``where`` ({attribute name: value}, see ``coder.attributes``) keeps only the transcripts with those
    values (a case's value counts for its transcripts) in quotes, the matrix, memos and a project; an
    unknown attribute name raises ``NotFound``. The scope is named in the file (``scope_text``).
    """
    from .. import matrix
    from ..access import Policy

    exp = get(name)
    if source is None:
        source = "all" if exp.kind in ("project", "codebook") else "consensus"
    policy = policy or Policy.owner()
    if exp.kind not in ("codebook", "memos"):  # no codings: any user may export them (memos as the policy allows)
        source = policy.check_source(db, source)
    out = Path(out)
    if out.is_dir():
        out = out / file_name(name, source)
    if not out.parent.is_dir():
        raise CoderError(f"cannot write {out}: there is no folder {out.parent}")
    cases = {r["case_name"] for r in db.query("select distinct case_name from transcripts")}
    if case is not None and case not in cases:
        raise CoderError(f"no case {case!r} in this project (have: {', '.join(sorted(cases - {None})) or 'none'})")
    where = dict(where or {})
    keep = None
    if where:
        from ..attributes import transcripts_where

        keep = transcripts_where(db, where)  # NotFound for a name no value has, before anything is written
    if exp.kind == "quotes":
        data = collect_quotes(db, codebook, source, case, transcript, policy, where)
    elif exp.kind == "memos":
        from ..memos import visible

        data = visible(db, policy, transcript=transcript, case=case, where=where)
    elif exp.kind == "matrix":
        from ..summaries import for_matrix, off_matrix

        data = matrix.build(db, codebook, by, source, matrix.QUOTES, case, transcript, policy, where)
        data["summaries"] = for_matrix(db, data)  # cell summaries: the team's synthesis, whatever the source
        data["off_summaries"] = off_matrix(db, data)  # on rows this source did not code: shown, not lost
    else:
        data = db
    meta = {
        **_meta(db, codebook, source, by, case, transcript),
        "policy": policy,
        "where": where,
        "transcript_ids": keep,
    }
    if pseudonymise:
        meta, data = _pseudonymised(db, exp.kind, meta, data, pseudonymise)
    try:
        exp.fn(data, out, codebook, meta)
    except OSError as exc:
        raise CoderError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return out


def scope_text(meta: dict) -> str:
    """What an export covers, in Japanese (``事例 A、属性 年代=30代``); empty for the whole project."""
    parts = [
        meta.get("case") and f"事例 {meta['case']}",
        meta.get("transcript") is not None and f"トランスクリプト {meta['transcript']}",
        *(f"属性 {k}={v}" for k, v in (meta.get("where") or {}).items()),
    ]
    return "、".join(p for p in parts if p)


def _pseudonymised(db, kind: str, meta: dict, data, pseudonymiser) -> tuple[dict, object]:
    """``meta`` and ``data`` with names replaced; REFI-QDA exporters get the pseudonymiser in ``meta``
    (they read the database and need the scope as stored to select transcripts)."""
    from ..pseudonymise import Pseudonymiser

    pz = pseudonymiser if isinstance(pseudonymiser, Pseudonymiser) else Pseudonymiser.from_db(db)
    if kind in ("project", "codebook"):
        return {**meta, "pseudonymiser": pz}, data
    meta = {**meta, **{k: pz.text(meta[k]) for k in ("case", "transcript", "project")}, "pseudonymiser": pz}
    if kind == "memos":
        return meta, [
            {**m, **{k: pz.text(m[k]) for k in ("text", "transcript", "case_name", "segment_text")}} for m in data
        ]
    if kind == "quotes":
        return meta, [
            {**(q := pz.quote(db, r)), "memos": [{**m, "text": pz.text(m["text"])} for m in q["memos"]]} for r in data
        ]
    summaries = data.get("summaries") or {}
    key = (lambda k: k) if data["by"] == "perspective" else pz.text

    def hidden(s: dict) -> dict:
        return {**s, "row": key(s["row"]), "text": pz.text(s["text"]), "refs": [pz.quote(db, r) for r in s["refs"]]}

    return meta, {
        **pz.matrix(db, data),
        "summaries": {key(k): {c: hidden(s) for c, s in row.items()} for k, row in summaries.items()},
        "off_summaries": [hidden(s) for s in data.get("off_summaries") or []],
    }


def _meta(db, codebook, source, by, case, transcript) -> dict:
    from .. import db as store
    from ..layers import source_label

    if transcript is not None:
        transcript = store.find_transcript(db, transcript)["name"]  # the web form sends ids
    files = [r[2] for r in db.execute("pragma database_list").fetchall() if r[1] == "main"]
    return {
        "source": source,
        "source_label": source_label(source),
        "unconfirmed": source == "model",
        "by": by,
        "case": case,
        "transcript": transcript,
        "project": Path(files[0]).name if files and files[0] else "",
        "codebook": codebook.version_tag,
        "generated": date.today().isoformat(),
    }

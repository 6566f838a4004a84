"""REFI-QDA exports: the project as ``.qdpx`` and the codebook as ``.qdc`` (QDA-XML 1.0).

A ``.qdpx`` is a zip of ``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``, elements in
schema order) and ``sources/<guid>.txt``, one per transcript, holding exactly ``transcripts.text``
(UTF-8, no BOM; in a pseudonymised export the text with names replaced, and every position
below refers to that text) and referenced as ``internal://<guid>.txt``. Every coded segment is one
``PlainTextSelection`` whose ``startPosition``/``endPosition`` are the segment's offsets: 0-based code
points, end exclusive (``𠮷`` counts one), as the standard counts characters. It holds one ``Coding``
per (coder, code), ``creatingUser`` = the coder's ``User``.

GUIDs are uuid5 of a fixed namespace and a stable key (user name, code id, transcript name + text
hash…), so exporting twice gives the same GUIDs (these names, GUIDs and note names are shared with the
reader and the importer: ``coder.refi_vocab``). What REFI-QDA has no element for travels in
variables, so a round trip through ``coder import-qdpx`` restores it: ``話者の立場`` (one
``speaker=perspective`` line per speaker) and ``coder`` (JSON: the transcript's format, per coder the
offset ranges of the segments they finished, and the cue times of subtitle transcripts). A
transcript's case is a ``Case`` with a ``SourceRef``, its title the ``TextSource``'s ``Description``.
Attributes (``coder.attributes``: 障害種別, 年代 …) are further Text variables: a transcript's own values
on its ``TextSource``, a case's on its ``Case``. Cell summaries (``coder.summaries``) are project
``Note``s named ``CELL_NOTE`` + a JSON key (grouping, row, code and the linked segments as [source
GUID, start, end]; see ``refi_vocab.cell_key``), which coder's import turns back into summaries.

Coding layers travel as ``User`` names (``consensus``, ``model:<suggesters>``, ``NAME:recode``), and
the project's ``Description`` says what the ones that are not people mean, for readers in other
tools. ``coder import-qdpx`` trusts those names only in coder's own export: ``origin`` starting
with ``ORIGIN``, the ``coder`` variable, and the ``User`` GUID coder gives that name.
"""

from __future__ import annotations

import json
import os
import uuid
import zipfile
from pathlib import Path

from ..refi_vocab import (
    CASE_NOTE,
    CODEBOOK_NS,
    CREATING_USER,
    META_VARIABLE,
    NOTE_NAMES,
    NOTE_REF,
    NS,
    PROJECT_FILE,
    SPEAKERS_VARIABLE,
    TARGET,
    cell_name,
    code_guid,
    guid,
    origin,
    source_guid,
    source_paths,
)
from . import exporter

ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # fixed member times: the same project gives the same bytes


def _codings(db, source: str) -> tuple[list[dict], list[str]]:
    """Confirmed codings to export and the coders whose finished segments travel with them.

    ``all``: every analyst and the ``consensus`` layer, or one analyst's name: their own codings and
    finished segments. ``consensus`` (the final codes) and ``model``: ``layers.codings_for(source)``,
    without finished segments (those layers are derived, not coded)."""
    from ..layers import CONSENSUS, all_layers, analysts, codings_for

    layers = all_layers(db)
    if source == "all":
        names = [*analysts(db), *([CONSENSUS] if CONSENSUS in layers else [])]
    elif source in layers and source != CONSENSUS:
        names = [source]
    else:
        return codings_for(db, source), []
    marks = ",".join("?" * len(names)) or "null"
    return list(
        db.query(
            f"""select segment_id, code, coder, created_at from codings
                             where status = 'confirmed' and coder in ({marks})""",
            names,
        )
    ), names


def _layer_note(coder: str, source: str) -> str:
    """What a ``User`` that is a coding layer rather than a person means ("" for an analyst)."""
    from ..layers import CONSENSUS, MODEL, RECODE

    if coder == CONSENSUS and source == CONSENSUS:
        return (
            "User consensus: the final codes: a supervisor's adjudication where there was one, else the codes "
            "every analyst who read the segment confirmed."
        )
    if coder == CONSENSUS:
        return "User consensus: the codes a supervisor adjudicated."
    if coder.startswith(MODEL):
        return f"User {coder}: the model's suggestions, confirmed by nobody (提案のみ・未確認); not codings."
    if coder.endswith(RECODE):
        return f"User {coder}: {coder[: -len(RECODE)]}'s blind re-coding of a sample (intra-coder agreement)."
    return ""


def _ranges(rows: list[dict]) -> list[list[int]]:
    """Offset ranges of consecutive segments (``idx``), merged."""
    out, last = [], None
    for r in sorted(rows, key=lambda r: r["idx"]):
        if out and r["idx"] == last + 1:
            out[-1][1] = r["end"]
        else:
            out.append([r["start"], r["end"]])
        last = r["idx"]
    return out


def _code_elements(parent, codes: list[dict], E, notes: dict[str, list[str]] | None = None) -> None:
    """``Code`` elements (nested by ``parent``) for rows {code, name, description, parent, codable}; ``notes``
    (project export only: a codebook has no ``NoteRef``): code → GUIDs of its notes, referenced after the
    ``Description`` and before the child codes, as REFI-QDA's ``CodeType`` orders them."""
    children: dict[str | None, list[dict]] = {}
    known = {c["code"] for c in codes}
    for c in codes:
        children.setdefault(c["parent"] if c["parent"] in known else None, []).append(c)

    def add(into, key):
        for c in children.get(key, []):
            el = E(
                into, "Code", guid=code_guid(c["code"]), name=c["name"], isCodable="true" if c["codable"] else "false"
            )
            if c["description"]:
                E(el, "Description").text = c["description"]
            for note in (notes or {}).get(c["code"], []):
                _ref(el, NOTE_REF, note, E)
            add(el, c["code"])

    add(parent, None)


def _code_rows(codebook, user_codes: list[dict], used: set[str] = frozenset()) -> list[dict]:
    """The codebook's codes, the project's user codes, and any other code a coding uses (a code
    dropped from the codebook since), as rows {code, name, description, parent, codable}."""
    codes = [
        {"code": c.id, "name": c.name, "description": c.definition, "parent": c.parent, "codable": c.status == "active"}
        for c in codebook.codes
    ]  # nested by parent; retired: not codable
    codes += [
        {
            "code": f"user:{u['guid']}",
            "name": u["name"],
            "description": u["description"],
            "parent": u["parent"],
            "codable": bool(u["codable"]),
        }
        for u in user_codes
    ]
    have = {c["code"] for c in codes}
    return codes + [
        {"code": c, "name": c, "description": "", "parent": None, "codable": True} for c in sorted(used - have)
    ]


def _ref(parent, tag: str, target: str, E) -> None:
    """A ``…Ref`` element (``NoteRef``, ``SourceRef``, ``VariableRef``, ``CodeRef``) pointing to ``target``."""
    E(parent, tag, **{TARGET: target})


def _element_maker(ns: str):
    from lxml import etree

    def E(parent, tag, **attrs):
        tag = f"{{{ns}}}{tag}"
        if parent is None:
            return etree.Element(tag, attrs, nsmap={None: ns})
        return etree.SubElement(parent, tag, attrs)

    return E


def _attribute_values(db, transcripts: list[dict]) -> tuple[list[str], dict[int, dict], dict[int, dict]]:
    """Attributes travel as Text variables: their names (other than coder's own two variables), and by
    transcript id its own values and its case's."""
    from ..attributes import names

    own, by_case = {}, {}
    for r in db.query("select scope, target, name, value from attributes"):
        if r["name"] not in (SPEAKERS_VARIABLE, META_VARIABLE):
            (own if r["scope"] == "transcript" else by_case).setdefault(r["target"], {})[r["name"]] = r["value"]
    own_values = {t["id"]: own.get(str(t["id"]), {}) for t in transcripts}
    case_values = {t["id"]: by_case.get(t["case_name"] or "", {}) for t in transcripts}
    used = {n for values in (*own_values.values(), *case_values.values()) for n in values}
    return [n for n in names(db) if n in used], own_values, case_values


def _variable_value(el, label: str, value: str, E) -> None:
    """A ``VariableValue`` (TextValue) of variable ``label`` in a source or case."""
    vv = E(el, "VariableValue")
    _ref(vv, "VariableRef", guid("variable", label), E)
    E(vv, "TextValue").text = value


def project_xml(
    db,
    codebook,
    source: str = "all",
    name: str = "coder",
    case: str | None = None,
    transcript: str | int | None = None,
    pseudonymiser=None,
    policy=None,
    transcript_ids: set[int] | None = None,
) -> tuple[bytes, dict[str, str]]:
    """``project.qde`` as bytes, and ``{zip member: text}`` of the sources it references; memos
    ``policy`` may see (default: all) and the cell summaries (see ``_summaries``) travel as ``Notes``
    (see ``_memos``, ``_cell_notes``). With a
    ``coder.pseudonymise.Pseudonymiser`` the names it lists are replaced in the sources' texts, names,
    titles and cases, the speakers and the user codes, and every selection's positions refer to the
    pseudonymised text. ``transcript_ids`` (e.g. those with an attribute value) limits the sources
    further, like ``case`` and ``transcript``."""
    from lxml import etree

    from .. import db as store

    E = _element_maker(NS)
    where, params = [], []
    if case is not None:
        where, params = ["case_name = ?"], [case]
    if transcript is not None:
        where, params = where + ["id = ?"], params + [store.find_transcript(db, transcript)["id"]]
    transcripts = list(
        db.query(
            "select id, name, case_name, title, format, layout, text from transcripts"
            + (f" where {' and '.join(where)}" if where else "")
            + " order by id",
            params,
        )
    )
    if transcript_ids is not None:
        transcripts = [t for t in transcripts if t["id"] in transcript_ids]
    segments = {
        r["id"]: r for r in db.query("select id, transcript_id, idx, start, [end], start_time, end_time from segments")
    }
    hide = pseudonymiser.text if pseudonymiser is not None else (lambda value: value)
    # codes added while coding (and retired ones) by GUID, so coder's own import can rebuild them
    added_codes = {
        code_guid(c.id): {
            "id": c.id,
            "name": c.name,
            "parent": c.parent,
            "definition": c.definition,
            "status": c.status,
        }
        for c in codebook.codes
        if c.origin == "project" or c.status == "retired"
    }
    notes, noted = _memos(db, policy, transcripts)  # before pseudonymising: by case name
    scoped = case is not None or transcript is not None or transcript_ids is not None
    cells = _summaries(db, transcripts, scoped)  # before pseudonymising: by case and transcript name
    attribute_names, own_values, case_values = _attribute_values(db, transcripts)  # by id: before pseudonymising
    if pseudonymiser is not None:
        transcripts, segments = pseudonymiser.sources(db, transcripts, segments)
    rows, finishers = _codings(db, source)
    rows = [r for r in rows if segments[r["segment_id"]]["transcript_id"] in {t["id"] for t in transcripts}]
    coders = sorted({r["coder"] for r in rows} | set(finishers))

    root = E(None, "Project", name=name, origin=origin(codebook.version_tag))
    if coders or notes or cells:
        users = E(root, "Users")
        for c in sorted(set(coders) | {m["author"] for m in (*notes, *cells)}):
            E(users, "User", guid=guid("user", c), name=c)
    user_codes = store.user_codes(db)
    code_notes: dict[str, list[str]] = {}
    for m in notes:
        if m["kind"] == "code":
            code_notes.setdefault(m["code"], []).append(guid("note", str(m["id"])))
    # a code a coding or a clarification names is written even if the codebook has dropped it since
    codes = _code_rows(
        codebook,
        pseudonymiser.codes(user_codes) if pseudonymiser else user_codes,
        {r["code"] for r in rows} | set(code_notes),
    )
    _code_elements(E(E(root, "CodeBook"), "Codes"), codes, E, code_notes)
    variables = E(root, "Variables")
    for label, text in (
        (
            SPEAKERS_VARIABLE,
            "one line per speaker: name=perspective (person, supporter, employer, interviewer, unknown)",
        ),
        (
            META_VARIABLE,
            "coder's metadata for a lossless round trip (JSON: format, finished segments per coder as offset ranges)",
        ),
    ):
        E(
            E(variables, "Variable", guid=guid("variable", label), name=label, typeOfVariable="Text"), "Description"
        ).text = text
    for label in attribute_names:  # attributes of cases and transcripts (coder.attributes)
        E(variables, "Variable", guid=guid("variable", label), name=label, typeOfVariable="Text")
    case_names = sorted({t["case_name"] for t in transcripts if t["case_name"]})
    if case_names:
        cases = E(root, "Cases")
        for c in case_names:
            el = E(cases, "Case", guid=guid("case", c), name=c)
            first = next(t for t in transcripts if t["case_name"] == c)
            for label, value in sorted(case_values.get(first["id"], {}).items()):
                _variable_value(el, label, hide(value), E)
            for t in transcripts:
                if t["case_name"] == c:
                    _ref(el, "SourceRef", source_guid(t["name"], t["text"]), E)
    files = {}
    if transcripts:
        sources = E(root, "Sources")
    by_segment: dict[int, list[dict]] = {}
    for r in rows:
        by_segment.setdefault(r["segment_id"], []).append(r)
    for t in transcripts:
        sid = source_guid(t["name"], t["text"])
        member, text_path = source_paths(sid)
        files[member] = t["text"]
        el = E(sources, "TextSource", guid=sid, name=t["name"], plainTextPath=text_path)
        if t["title"]:
            E(el, "Description").text = t["title"]
        segs = sorted((s for s in segments.values() if s["transcript_id"] == t["id"]), key=lambda s: s["idx"])
        for s in (s for s in segs if s["id"] in by_segment or s["id"] in noted):
            sel_id = guid("selection", f"{sid}:{s['start']}:{s['end']}")
            sel = E(el, "PlainTextSelection", guid=sel_id, startPosition=str(s["start"]), endPosition=str(s["end"]))
            for r in sorted(by_segment.get(s["id"], []), key=lambda r: (r["coder"], r["code"])):
                attrs = {
                    "guid": guid("coding", f"{sel_id}:{r['coder']}:{r['code']}"),
                    CREATING_USER: guid("user", r["coder"]),
                }
                if r.get("created_at"):
                    attrs["creationDateTime"] = r["created_at"]
                _ref(E(sel, "Coding", **attrs), "CodeRef", code_guid(r["code"]), E)
            _note_refs(sel, noted.get(s["id"], []), E)
        _note_refs(el, [m for m in notes if m["kind"] == "transcript" and m["transcript_id"] == t["id"]], E)
        speakers = "\n".join(f"{hide(r['speaker'])}={r['perspective']}" for r in store.list_speakers(db, t["id"]))
        reviewed = {}
        for c in finishers:
            done = [
                segments[r["id"]]
                for r in db.query(
                    """select s.id from reviews r join segments s
                    on s.id = r.segment_id where r.coder = ? and s.transcript_id = ?""",
                    [c, t["id"]],
                )
            ]
            if done:
                reviewed[c] = _ranges(done)
        meta = {"format": t["format"], "reviewed": reviewed}
        if added_codes:
            meta["codes"] = added_codes
        if t.get("layout") == "document":  # read back as a document, whatever its lines look like
            meta["layout"] = "document"
        if any(s["start_time"] is not None for s in segs):  # subtitles: the cue times of turns and segments
            turns = db.query("select start_time, end_time from turns where transcript_id = ? order by idx", [t["id"]])
            meta["times"] = {
                "segments": [[s["start_time"], s["end_time"]] for s in segs],
                "turns": [[r["start_time"], r["end_time"]] for r in turns],
            }
        meta = json.dumps(meta, ensure_ascii=False, sort_keys=True)
        for label, value in ((SPEAKERS_VARIABLE, speakers), (META_VARIABLE, meta)):
            _variable_value(el, label, value, E)
        for label, value in sorted(own_values.get(t["id"], {}).items()):
            _variable_value(el, label, hide(value), E)
    cells = _cell_notes(cells, transcripts, segments, hide)
    _note_elements(root, notes, hide, E, cells)
    E(root, "Description").text = (
        f"Exported by coder: codebook {codebook.version_tag}, codings: {source}. "
        "Selections are segments (sentences); offsets are code points."
        + "".join(f" {_layer_note(c, source)}" for c in coders if _layer_note(c, source))
    )
    _note_refs(root, [m for m in notes if m["kind"] == "project"], E)
    for cell in cells:
        _ref(root, NOTE_REF, cell["guid"], E)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True), files


def _memos(db, policy, transcripts: list[dict]) -> tuple[list[dict], dict[int, list[dict]]]:
    """The memos a project export carries, and the segment memos by segment id: those ``policy``
    (default the project owner) may see on the exported transcripts, their segments and cases, on the
    project, and the codebook clarifications (kind ``code``, which everyone sees), each referenced from
    its ``Code`` (the segment a clarification may name does not travel)."""
    from ..access import Policy
    from ..memos import visible

    ids, cases = {t["id"] for t in transcripts}, {t["case_name"] for t in transcripts} - {None}
    notes = [
        m
        for m in visible(db, policy or Policy.owner())
        if m["kind"] in ("project", "code")
        or (m["kind"] == "case" and m["case_name"] in cases)
        or (m["kind"] in ("segment", "transcript") and m["transcript_id"] in ids)
    ]
    noted: dict[int, list[dict]] = {}
    for m in notes:
        if m["kind"] == "segment":
            noted.setdefault(m["segment_id"], []).append(m)
    return notes, noted


def _note_refs(parent, notes: list[dict], E) -> None:
    for m in notes:
        _ref(parent, NOTE_REF, guid("note", str(m["id"])), E)


def _summaries(db, transcripts: list[dict], scoped: bool) -> list[dict]:
    """The cell summaries (``coder.summaries``) a project export carries: those on the exported cases
    and transcripts, and — unless the export is limited to some interviews — those on perspectives
    and attribute values, which speak of every interview."""
    from ..summaries import list_summaries

    cases, names = {t["case_name"] for t in transcripts} - {None}, {t["name"] for t in transcripts}
    return [
        s
        for s in list_summaries(db)
        if (
            s["row"] in cases
            if s["grouping"] == "case"
            else s["row"] in names
            if s["grouping"] == "transcript"
            else not scoped
        )
    ]


def _cell_notes(cells: list[dict], transcripts: list[dict], segments: dict[int, dict], hide) -> list[dict]:
    """Summaries as note rows for ``_note_elements``: name ``CELL_NOTE`` + the JSON key (grouping, row
    — pseudonymised like a case or transcript name — code, and the linked segments that travel as
    [source GUID, start, end] of the exported, possibly pseudonymised, text); ``guid`` from that key."""
    sources = {t["id"]: source_guid(t["name"], t["text"]) for t in transcripts}
    out = []
    for s in cells:
        linked = [segments[i] for i in s["segments"] if i in segments and segments[i]["transcript_id"] in sources]
        key = {
            "grouping": s["grouping"],
            "row": s["row"] if s["grouping"] == "perspective" else hide(s["row"]),
            "code": s["code"],
            "segments": [[sources[g["transcript_id"]], g["start"], g["end"]] for g in linked],
        }
        cell = json.dumps([key["grouping"], key["row"], key["code"]], ensure_ascii=False)
        out.append({**s, "name": cell_name(key), "guid": guid("summary", cell)})
    return out


def _note_elements(root, notes: list[dict], hide, E, cells: list[dict] = ()) -> None:
    """``Notes``: one ``Note`` per memo (name: what it is on; ``CASE_NOTE`` + the case for a case
    memo, which REFI-QDA cannot attach to a ``Case``), its author's ``User`` and its dates; then one
    per cell summary (``cells``, from ``_cell_notes``)."""
    from . import xml_text

    if not notes and not cells:
        return
    el = E(root, "Notes")
    for m in notes:
        name = f"{CASE_NOTE}{hide(m['case_name'])}" if m["kind"] == "case" else NOTE_NAMES[m["kind"]]
        attrs = {
            "guid": guid("note", str(m["id"])),
            "name": name,
            CREATING_USER: guid("user", m["author"]),
            "creationDateTime": m["created_at"],
        }
        if m["updated_at"]:
            attrs.update(modifyingUser=attrs[CREATING_USER], modifiedDateTime=m["updated_at"])
        E(E(el, "Note", **attrs), "PlainTextContent").text = xml_text(hide(m["text"]))
    for s in cells:
        attrs = {
            "guid": s["guid"],
            "name": xml_text(s["name"]),
            CREATING_USER: guid("user", s["author"]),
            "creationDateTime": s["created_at"],
        }
        if s["updated_at"] and s["updated_at"] != s["created_at"]:
            attrs.update(modifyingUser=attrs[CREATING_USER], modifiedDateTime=s["updated_at"])
        E(E(el, "Note", **attrs), "PlainTextContent").text = xml_text(hide(s["text"]))


def _write_zip(out: Path, members: dict[str, bytes]) -> None:
    """Write the archive next to ``out`` and move it into place, so a failure leaves no half file."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for member, data in members.items():
                z.writestr(zipfile.ZipInfo(member, ZIP_TIME), data, zipfile.ZIP_DEFLATED)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_qdpx(
    db,
    out,
    codebook,
    source: str = "all",
    name: str = "coder",
    case: str | None = None,
    transcript: str | int | None = None,
    pseudonymiser=None,
    policy=None,
    transcript_ids: set[int] | None = None,
) -> Path:
    """Write the project (transcripts, codebook + user codes, codings of ``source``, the memos
    ``policy`` may see) as a ``.qdpx`` (pseudonymised with a ``pseudonymiser``, see ``project_xml``)."""
    qde, files = project_xml(db, codebook, source, name, case, transcript, pseudonymiser, policy, transcript_ids)
    _write_zip(Path(out), {PROJECT_FILE: qde, **{k: v.encode("utf-8") for k, v in files.items()}})
    return Path(out)


def codebook_xml(codebook, user_codes: list[dict] | None = None) -> bytes:
    """The codebook and ``user_codes`` as a REFI-QDA codebook document (QDA-XML ``CodeBook``, UTF-8 bytes):
    name = Japanese name, description = definition, codes nested by parent, retired codes not codable."""
    from lxml import etree

    E = _element_maker(CODEBOOK_NS)
    root = E(None, "CodeBook", origin=origin(codebook.version_tag))
    _code_elements(E(root, "Codes"), _code_rows(codebook, user_codes or []), E)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def export_qdc(codebook, out, user_codes: list[dict] | None = None) -> Path:
    """Write the codebook (name = Japanese name, description = definition; plus user codes) as ``.qdc``."""
    Path(out).write_bytes(codebook_xml(codebook, user_codes))
    return Path(out)


@exporter("refi-qdpx", ".qdpx", "project", "REFI-QDA プロジェクト（NVivo・ATLAS.ti・MAXQDA・QualCoder）")
def qdpx(db, out, codebook, meta):
    """Writes the project as a REFI-QDA ``.qdpx`` archive (``export_qdpx``; pseudonymised when ``meta`` has a
    pseudonymiser); returns the path."""
    name = Path(meta.get("project") or "coder").stem or "coder"
    pz = meta.get("pseudonymiser")
    return export_qdpx(
        db,
        out,
        codebook,
        meta.get("source", "all"),
        pz.text(name) if pz else name,
        meta.get("case"),
        meta.get("transcript"),
        pz,
        meta.get("policy"),
        meta.get("transcript_ids"),
    )


@exporter("refi-qdc", ".qdc", "codebook", "REFI-QDA コードブック")
def qdc(db, out, codebook, meta):
    """Writes the codebook and the project's user codes as a REFI-QDA ``.qdc`` codebook (``export_qdc``); returns
    the path."""
    from ..db import user_codes

    pz = meta.get("pseudonymiser")  # user codes may quote an interview (draft codes from topics)
    return export_qdc(codebook, out, pz.codes(user_codes(db)) if pz else user_codes(db))

"""Read REFI-QDA files (QDA-XML 1.0) into plain data: a ``.qdpx`` project, or a ``.qdc`` codebook.

Tolerant of what tools write: any ``*.qde`` in the archive (``project.qde`` first), ``sources/`` or
``Sources/``, ``internal://`` or relative text paths, a byte-order mark, text inline
(``PlainTextContent``), elements with or without the namespace. Positions are kept as written:
0-based code points into the source's text, end exclusive. A source whose text is an external file
not in the archive, and picture, PDF, audio and video sources, are listed as skipped; a missing
``internal://`` file is an error (the archive is incomplete).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import safezip
from .decode import decode
from .errors import CoderError
from .refi_vocab import CREATING_USER, INTERNAL, NOTE_REF, PROJECT_FILE, SOURCES, TARGET, norm_guid

MEDIA = {"PictureSource": "picture", "PDFSource": "PDF", "AudioSource": "audio", "VideoSource": "video"}


@dataclass
class QdaCode:
    """A code read from a QDA-XML ``Code`` element (nested codes flattened; ``parent`` links them)."""

    guid: str
    name: str
    description: str = ""
    parent: str | None = None  # the parent code's guid
    codable: bool = True
    notes: list[str] = field(default_factory=list)  # guids of the notes on the code (its own NoteRef children)


@dataclass
class QdaSelection:
    """A ``PlainTextSelection``: ``start``/``end`` in code points into its source's text (0-based, end
    exclusive, as written), with its codings and notes."""

    guid: str
    start: int
    end: int
    codings: list[tuple[str, str | None]] = field(default_factory=list)  # (code guid, user guid)
    notes: list[str] = field(default_factory=list)  # guids of the notes it refers to (NoteRef)


@dataclass
class QdaSource:
    """A text source of a ``.qdpx``: its decoded text, variables, selections and notes, and how many
    codings apply to the whole source."""

    guid: str
    name: str
    text: str = ""
    raw: bytes = b""  # the text file's bytes (for duplicate detection); empty when inline
    encoding: str = "utf-8"
    description: str = ""
    variables: dict[str, str] = field(default_factory=dict)  # variable name → text value
    selections: list[QdaSelection] = field(default_factory=list)
    whole_source_codings: int = 0
    note: str = ""  # how the text was found, if not the plain way
    notes: list[str] = field(default_factory=list)  # guids of the notes on the whole source (NoteRef)


@dataclass
class QdaProject:
    """Everything ``read_qdpx`` read from a ``.qdpx``: users, codes, cases, text sources, notes, and the
    sources it skipped."""

    name: str = ""
    origin: str = ""  # the software that wrote the file, as it says
    users: dict[str, str] = field(default_factory=dict)  # guid → name
    codes: list[QdaCode] = field(default_factory=list)
    cases: dict[str, str] = field(default_factory=dict)  # source guid → case name
    case_variables: dict[str, dict[str, str]] = field(default_factory=dict)  # case name → variable → value
    sources: list[QdaSource] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source name, why)
    default_user: str | None = None
    notes: dict[str, QdaNote] = field(default_factory=dict)  # guid → note (Notes/Note)
    project_notes: list[str] = field(default_factory=list)  # guids of the notes on the project (NoteRef)


@dataclass
class QdaNote:
    """A ``Note`` (REFI-QDA's memo): its text, name, author (user guid) and creation time as written."""

    guid: str
    text: str
    name: str = ""
    user: str | None = None
    created: str | None = None


def _parse(data: bytes, where: str):
    from lxml import etree

    # no entity expansion (billion laughs), no network, and libxml2's size and depth limits kept
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise CoderError(f"{where}: not well-formed XML: {exc}") from exc
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = etree.QName(el).localname  # namespaced or not, read by local name
    return root


def _codes(parent, parent_guid: str | None = None) -> list[QdaCode]:
    out = []
    for el in parent.findall("Code"):
        if not el.get("guid"):
            raise CoderError(f"code {el.get('name')!r} has no guid")
        code = QdaCode(
            guid=norm_guid(el.get("guid")),
            name=el.get("name") or "",
            parent=parent_guid,
            description=(el.findtext("Description") or "").strip(),
            codable=(el.get("isCodable") or "true").strip().lower() in ("true", "1"),
            notes=[norm_guid(r.get(TARGET)) for r in el.findall(NOTE_REF) if r.get(TARGET)],
        )
        out += [code, *_codes(el, code.guid)]
    return out


def read_qdc(path: str | Path) -> list[QdaCode]:
    """The codes of a ``.qdc`` codebook (nested codes flattened, each with its parent's guid)."""
    path = Path(path)
    try:
        root = _parse(path.read_bytes(), str(path))
    except OSError as exc:
        raise CoderError(f"{path}: cannot read file: {exc.strerror or exc}") from exc
    if root.tag != "CodeBook" or root.find("Codes") is None:
        raise CoderError(f"{path}: not a REFI-QDA codebook (expected <CodeBook> with <Codes>, found <{root.tag}>)")
    try:
        return _codes(root.find("Codes"))
    except CoderError as exc:
        raise CoderError(f"{path}: {exc}") from exc


def _member(names: dict[str, str], ref: str) -> str | None:
    """The archive member a ``plainTextPath`` points to (case-insensitive, sources/ or Sources/)."""
    rel = ref[len(INTERNAL) :] if ref.startswith(INTERNAL) else ref
    if "://" in rel or rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        rel = PurePosixPath(rel.replace("\\", "/")).name  # an external path: look for the file by name
    for candidate in (f"{SOURCES}{rel}", rel):
        if candidate.lower() in names:
            return names[candidate.lower()]
    return None


def _text(z: zipfile.ZipFile, names, el, where: str) -> tuple[str, bytes, str, str] | str:
    """(text, raw bytes, encoding, note) of a TextSource, or why it has none."""
    inline = el.find("PlainTextContent")
    if inline is not None and (inline.text or "").strip():
        return inline.text, b"", "utf-8", "inline text"
    ref = el.get("plainTextPath")
    member = _member(names, ref) if ref else None
    if ref and member is None:
        if ref.startswith(INTERNAL):
            raise CoderError(f"{where}: the archive has no {ref} (source {el.get('name')!r}); the file is incomplete")
        return f"text file {ref!r} is not in the archive"
    data = safezip.read(z, member, where) if member else b""
    if data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        text, encoding = decode(data, f"{where}:{member}")
        return text, data, encoding, ""
    rich = _member(names, el.get("richTextPath") or "")
    if rich and rich.lower().endswith(".docx"):
        from .formats.word import read_word

        data = safezip.read(z, rich, where)
        try:
            return (
                read_word(data, f"{where}:{rich}").text,
                data,
                "docx",
                "text from the rich-text .docx (the plain text was empty)",
            )
        except safezip.BombError:
            raise
        except CoderError:
            pass
    return "empty source (no text)"


def _variable_values(el, variables: dict[str, str]) -> dict[str, str]:
    """Variable name → value (as text) of the ``VariableValue``s of a source or case."""
    out = {}
    for vv in el.iterfind("VariableValue"):
        ref = vv.find("VariableRef")
        value = next((c.text for c in vv if c.tag.endswith("Value") and c.tag != "VariableValue"), None)
        if ref is not None and norm_guid(ref.get(TARGET)) in variables:
            out[variables[norm_guid(ref.get(TARGET))]] = value or ""
    return out


def read_qdpx(path: str | Path) -> QdaProject:
    """Users, codes, cases, text sources (with selections) and notes of a ``.qdpx``; CoderError names the file.

    The archive is refused before anything is parsed if it could inflate beyond ``safezip.REFI``
    (see :mod:`coder.safezip`), and each member is read bounded by its checked size.
    """
    path = Path(path)
    with safezip.open_zip(path, str(path), safezip.REFI, "not a REFI-QDA project (.qdpx must be a zip archive)") as z:
        names = {n.lower(): n for n in z.namelist() if not n.endswith("/")}
        qde = sorted(
            (n for n in names.values() if n.lower().endswith(".qde")), key=lambda n: (n.lower() != PROJECT_FILE, n)
        )
        if not qde:
            raise CoderError(f"{path}: no {PROJECT_FILE} inside (is it a REFI-QDA .qdpx?)")
        root = _parse(safezip.read(z, qde[0], str(path)), f"{path}:{qde[0]}")
        if root.tag != "Project":
            raise CoderError(f"{path}: {qde[0]} is not a REFI-QDA project (root <{root.tag}>, expected <Project>)")
        project = QdaProject(
            name=root.get("name") or path.stem,
            default_user=norm_guid(root.get("creatingUserGUID")),
            origin=root.get("origin") or "",
        )
        project.users = {
            norm_guid(u.get("guid")): u.get("name") or u.get("id") or "" for u in root.iterfind("Users/User")
        }
        try:
            project.codes = _codes(root.find("CodeBook/Codes")) if root.find("CodeBook/Codes") is not None else []
        except CoderError as exc:
            raise CoderError(f"{path}: {exc}") from exc
        variables = {norm_guid(v.get("guid")): v.get("name") or "" for v in root.iterfind("Variables/Variable")}
        for case in root.iterfind("Cases/Case"):
            if case.get("name") and case.find("VariableValue") is not None:  # NVivo classifications
                project.case_variables.setdefault(case.get("name"), {}).update(_variable_values(case, variables))
            for ref in case.iterfind("SourceRef"):
                project.cases.setdefault(norm_guid(ref.get(TARGET)), case.get("name") or "")
        for el in root.iterfind("Sources/*"):
            path_stem = PurePosixPath((el.get("plainTextPath") or el.get("path") or "").replace("\\", "/")).stem
            name = el.get("name") or path_stem or el.get("guid") or "?"
            if el.tag in MEDIA:
                project.skipped.append((name, f"{MEDIA[el.tag]} source (only text sources are imported)"))
                continue
            found = _text(z, names, el, str(path))
            if isinstance(found, str):
                project.skipped.append((name, found))
                continue
            source = QdaSource(
                guid=norm_guid(el.get("guid")),
                name=name,
                text=found[0],
                raw=found[1],
                encoding=found[2],
                note=found[3],
                description=(el.findtext("Description") or "").strip(),
                whole_source_codings=len(el.findall("Coding")),
            )
            source.variables.update(_variable_values(el, variables))
            fallback = norm_guid(el.get(CREATING_USER))
            for sel in el.iterfind("PlainTextSelection"):
                user = norm_guid(sel.get(CREATING_USER)) or fallback
                try:
                    start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                except (TypeError, ValueError) as exc:
                    raise CoderError(
                        f"{path}: selection {sel.get('guid')} in {name!r} has no valid startPosition/endPosition"
                    ) from exc
                source.selections.append(
                    QdaSelection(
                        guid=norm_guid(sel.get("guid")),
                        start=start,
                        end=end,
                        codings=[
                            (norm_guid(c.get(TARGET)), norm_guid(c.getparent().get(CREATING_USER)) or user)
                            for c in sel.iterfind("Coding/CodeRef")
                        ],
                        notes=[norm_guid(r.get(TARGET)) for r in sel.iterfind(NOTE_REF)],
                    )
                )
            source.notes = [norm_guid(r.get(TARGET)) for r in el.iterfind(NOTE_REF)]
            project.sources.append(source)
        _notes(z, names, root, project, str(path))
    return project


def _notes(z, names, root, project: QdaProject, where: str) -> None:
    """The project's ``Notes`` (inline text or a text file; notes without text are left out) and its
    own ``NoteRef``s."""
    for el in root.iterfind("Notes/Note"):
        found = _text(z, names, el, where) if el.get("guid") else "no guid"
        if not isinstance(found, str) and found[0].strip():
            note = QdaNote(
                guid=norm_guid(el.get("guid")),
                text=found[0].strip(),
                name=el.get("name") or "",
                user=norm_guid(el.get(CREATING_USER)),
                created=el.get("creationDateTime"),
            )
            project.notes[note.guid] = note
    project.project_notes = [norm_guid(r.get(TARGET)) for r in root.iterfind(NOTE_REF)]

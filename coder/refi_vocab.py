"""The REFI-QDA vocabulary coder's reader (``coder.qda``), importer (``coder.qda_import``) and exporter
(``coder.export.refi``) share, so what one writes the others read back.

- **Namespaces** of QDA-XML 1.0 (``NS`` for a project, ``CODEBOOK_NS`` for a codebook); the reader
  matches elements by local name, with or without them.
- **Archive layout**: ``PROJECT_FILE`` and ``SOURCES`` (the folder of the source texts), which a
  source's ``plainTextPath`` names as ``INTERNAL`` + the file name (``source_paths``).
- **Attributes repeated** across elements: ``TARGET`` (the GUID every ``…Ref`` element points to) and
  ``CREATING_USER``; the ``NOTE_REF`` element (a note on a code, selection, source or the project).
- **GUIDs**: uuid5 of a fixed namespace and a stable key (``guid``, ``code_guid``, ``source_guid``), so
  exporting twice gives the same GUIDs; ``norm_guid`` is how GUIDs are compared when read (braces and
  case, as tools write them, dropped).
- **Variables** that carry what REFI-QDA has no element for: ``SPEAKERS_VARIABLE`` (``話者の立場``,
  one ``speaker=perspective`` line per speaker) and ``META_VARIABLE`` (``coder``, JSON).
- **Note names**: ``NOTE_NAMES`` (what a memo is on), ``CASE_NOTE`` + the case for a case memo,
  ``CELL_NOTE`` + a JSON key for a cell summary (``cell_name`` writes it, ``cell_key`` reads it).
- **Origin**: coder's own files say ``origin(version)``, which starts with ``ORIGIN``.
"""

from __future__ import annotations

import hashlib
import json
import uuid

NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_FILE = "project.qde"  # the project's XML inside a .qdpx
SOURCES = "sources/"  # the archive folder of the source texts
INTERNAL = "internal://"  # a plainTextPath inside the archive's sources folder
TARGET = "targetGUID"  # the attribute of every …Ref element: the GUID it points to
CREATING_USER = "creatingUser"  # the attribute naming a User by GUID (Coding, Note, selections, sources)
NOTE_REF = "NoteRef"  # a note on a Code, a PlainTextSelection, a TextSource or the Project

GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "coder:refi-qda")

SPEAKERS_VARIABLE = "話者の立場"
META_VARIABLE = "coder"
ORIGIN = "coder ("  # how the Project's origin starts in coder's own exports

CASE_NOTE = "事例のメモ："  # a Note's name for a case memo, then the case (a Case takes no NoteRef)
CELL_NOTE = "セルの要約："  # a Note's name for a matrix cell's summary, then its key as JSON (see ``cell_key``)
NOTE_NAMES = {
    "code": "コードのメモ",
    "segment": "セグメントのメモ",
    "transcript": "トランスクリプトのメモ",
    "project": "プロジェクトのメモ",
}


def origin(version: str) -> str:
    """The ``origin`` of a file coder writes with codebook ``version`` (``coder (renkei@p3)``)."""
    return f"{ORIGIN}{version})"


def guid(kind: str, key: str) -> str:
    """The stable GUID (lower-case uuid5 text) of a user, code, source… (``kind``) named ``key``."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{key}"))


def code_guid(code: str) -> str:
    """A codebook code's GUID, or the GUID a user code (``user:<guid>``) came with."""
    if code.startswith("user:"):
        return code[len("user:") :]
    return guid("code", code)


def source_guid(name: str, text: str) -> str:
    """A transcript's GUID: from its name and the SHA-256 of its (exported) text."""
    return guid("source", f"{name}:{hashlib.sha256(text.encode('utf-8')).hexdigest()}")


def norm_guid(value: str | None) -> str | None:
    """A GUID as read from a file, for comparing: spaces and braces stripped, lower case; None if empty."""
    return value.strip().strip("{}").lower() if value else None


def source_paths(source: str) -> tuple[str, str]:
    """(archive member, ``plainTextPath``) of a source's text file, by its GUID."""
    return f"{SOURCES}{source}.txt", f"{INTERNAL}{source}.txt"


def cell_name(key: dict) -> str:
    """A cell summary note's name: ``CELL_NOTE`` + ``key`` ({grouping, row, code, segments}) as JSON."""
    return CELL_NOTE + json.dumps(key, ensure_ascii=False, sort_keys=True)


def cell_key(name: str) -> dict | None:
    """The key of a summary note's name (see ``cell_name``): {grouping, row, code, segments}, or None
    for any other note (or a name that does not parse). Segments that are not [source GUID, start,
    end] (start and end integers) are dropped."""
    if not (name or "").startswith(CELL_NOTE):
        return None
    try:
        key = json.loads(name[len(CELL_NOTE) :])
    except ValueError:
        return None
    if not isinstance(key, dict) or not all(isinstance(key.get(k), str) for k in ("grouping", "row", "code")):
        return None
    segments = key.get("segments") if isinstance(key.get("segments"), list) else []
    return {
        **key,
        "segments": [
            g
            for g in segments
            if isinstance(g, list) and len(g) == 3 and isinstance(g[0], str) and all(isinstance(v, int) for v in g[1:])
        ],
    }

"""A source file's content → the text offsets point into, its turns, its layout and an import report.

One home per kind of input: ``lines`` (the grammar of speaker and time-code lines), ``layouts``
(which layout a text uses, front matter, documents), ``subtitles`` (WebVTT, SRT), ``word`` (.docx
as Word's final view). ``read`` is the entry point for ingest and REFI-QDA import alike.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..types import Note, Turn
from .layouts import DOCUMENT_SPEAKER, Reading, read_turns
from .subtitles import UNKNOWN_SPEAKER, holds_cues, parse_subtitles

__all__ = ["DOCUMENT_SPEAKER", "UNKNOWN_SPEAKER", "Parsed", "newlines", "parse_subtitles", "read", "read_text"]

# What editors write as a line break: CR LF, CR, and the controls and separators Unicode counts as breaks
_BREAKS = str.maketrans({"\r": "\n", "\v": "\n", "\f": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n"})


def newlines(text: str) -> str:
    """Every line break as ``\n``: ``\r\n`` becomes one (offsets after it shift by one); ``\r``, VT, FF,
    NEL, U+2028 and U+2029 become ``\n`` one for one."""
    return text.replace("\r\n", "\n").translate(_BREAKS)


LAYOUTS = {
    "labels": "speaker labels (話者：発言)",
    "headers": "a speaker-and-time line above the words",
    "names": "a bracketed name alone on a line above the words",
    "questions": "―― questions with unlabelled answers",
    "document": "a document without speakers (one turn per paragraph)",
    "cues": "subtitle cues",
}


@dataclass
class Parsed:
    """A source read into turns. ``text``: what offsets point into (line ends ``\\n``)."""

    text: str
    turns: list[Turn]
    layout: str
    notes: list[Note] = field(default_factory=list)


def read(content: str | bytes, source: str, fmt: str, known: set[str] = frozenset(), document: bool = False) -> Parsed:
    """Read a source's decoded text (``fmt`` txt, md, vtt, srt; line ends ``\\n``) or, for ``fmt="docx"``,
    its bytes. ``known``: speaker names mapped or known to the project; ``document``: read as a
    speaker-less document whatever its labels. Raises IngestError (naming ``source``) when the
    content cannot be read; a text without speakers is a document, not an error.
    """
    if fmt in ("vtt", "srt"):
        text, turns, notes = parse_subtitles(content, source, fmt)
        if document:
            return _as_document(text, notes, "read as a document (--document)")
        return Parsed(text, turns, "cues", notes)
    if fmt == "docx":
        from .word import read_word

        word = read_word(content, source)
        if holds_cues(word.text):
            return _cues_in(word.text, source, document, word.notes)
        parsed = read_text(
            word.text,
            "docx",
            known,
            document,
            lambda s, e: _paragraphs(word.paragraphs, s, e),
            {word.paragraphs[k] for k in word.headings},
        )
        parsed.notes[:0] = word.notes
        return parsed
    if holds_cues(content):
        return _cues_in(content, source, document, [])
    return read_text(content, fmt, known, document)


def _cues_in(text: str, source: str, document: bool, notes: list[Note]) -> Parsed:
    fmt = "vtt" if text.lstrip("\ufeff \n").startswith("WEBVTT") else "srt"
    rendered, turns, more = parse_subtitles(text, source, fmt)
    notes = [*notes, Note("", f"read as {fmt.upper()} subtitles (the file holds cue timings)"), *more]
    if document:
        return _as_document(rendered, notes, "read as a document (--document)")
    return Parsed(rendered, turns, "cues", notes)


def read_text(
    text: str,
    fmt: str = "txt",
    known: set[str] = frozenset(),
    document: bool = False,
    where=None,
    headings: set[int] = frozenset(),
) -> Parsed:
    """Turns of a plain text (see ``layouts``), with a note for each run of lines left out.
    ``where(start, end)`` names a place for the report (default: line numbers); ``headings``: start
    offsets of lines that are headings (Word heading styles), which end a turn like Markdown's ``#``."""
    reading = read_turns(text, fmt, known, document, headings)
    return Parsed(
        text, reading.turns, reading.layout, _notes(text, reading, where or (lambda s, e: _lines(text, s, e)))
    )


def _as_document(text: str, notes: list[Note], reason: str) -> Parsed:
    reading = read_turns(text, "txt", document=True)
    reading.reason = reason
    return Parsed(text, reading.turns, "document", notes + _notes(text, reading, lambda s, e: _lines(text, s, e)))


def _notes(text: str, reading: Reading, where) -> list[Note]:
    notes = [Note("", reading.reason)] if reading.reason else []
    for start, end, why in reading.left_out:
        words = " / ".join(line.strip() for line in text[start:end].split("\n") if line.strip())
        notes.append(Note(where(start, end), f"left out ({why})", words if len(words) <= 80 else words[:79] + "…"))
    return notes


def _lines(text: str, start: int, end: int) -> str:
    first, last = text.count("\n", 0, start) + 1, text.count("\n", 0, end) + 1
    return f"line {first}" if first == last else f"lines {first}–{last}"


def _paragraphs(starts: list[int], start: int, end: int) -> str:
    first, last = bisect.bisect_right(starts, start), bisect.bisect_right(starts, max(start, end - 1))
    return f"paragraph {first}" if first == last else f"paragraphs {first}–{last}"

"""A .docx file → its text as Word's final view shows it, with an import report.

Blocks are the body's non-empty paragraphs and table rows, in order (empty ones
are skipped). A table row with two or more non-empty cells whose first cell has
at most 24 characters reads ``first：rest`` (a speaker column), other rows one
cell per line. A paragraph is the text of its runs wherever they sit (insertions,
hyperlinks, content controls, smart tags, simple fields, custom XML), with tabs
as ``\t``, line breaks as ``\n`` (blank lines inside a paragraph become one line
break, so blocks stay separated by blank lines) and ruby (furigana) as its base.

Unaccepted tracked changes are read as accepted: inserted and moved-here text is
kept, deleted and moved-away text is left out, and a paragraph whose paragraph
mark was deleted joins the next one. Field codes are left out, their results
kept; of ``mc:AlternateContent`` only the first choice is read. Text boxes,
comments, headers, footers, footnotes, endnotes and ruby readings are not part
of the text. Each of these, and each deletion, is reported as a
:class:`~coder.types.Note` naming ``paragraph N`` (the N-th block) where it sits,
or the next block when its own paragraph ends up empty.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from docx.oxml.ns import qn

from .. import safezip
from ..errors import IngestError
from ..types import Note

_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_ALTERNATE, _CHOICE, _FALLBACK = _MC + "AlternateContent", _MC + "Choice", _MC + "Fallback"
_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_P, _TBL, _TR, _TC, _R, _T = (qn(f"w:{t}") for t in ("p", "tbl", "tr", "tc", "r", "t"))
_DEL, _INS, _MOVE_FROM, _MOVE_TO = (qn(f"w:{t}") for t in ("del", "ins", "moveFrom", "moveTo"))
_SDT, _SDT_CONTENT, _CUSTOM_XML = qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")
_TXBX = qn("w:txbxContent")
# Inline wrappers whose runs Word shows as they are
_WRAPPERS = {qn(f"w:{t}") for t in ("hyperlink", "smartTag", "sdtContent", "fldSimple", "customXml", "dir", "bdo")}
_RUN_TEXT = {
    qn("w:tab"): "\t",
    qn("w:ptab"): "\t",
    qn("w:br"): "\n",
    qn("w:cr"): "\n",
    qn("w:noBreakHyphen"): "-",
    qn("w:softHyphen"): "",
}
_COMMENT_ANCHORS = {qn("w:commentRangeStart"), qn("w:commentReference")}
_NOTE_REFERENCES = {qn("w:footnoteReference"): "footnote", qn("w:endnoteReference"): "endnote"}
_BLANK_LINES = re.compile(r"\n\s*\n")
QUOTE_LENGTH = 60
UNREADABLE = "not a readable .docx file (corrupt or truncated?)"


@dataclass
class WordText:
    """A .docx file's text (Word's final view) and what was read in a particular way or left out."""

    text: str  # blocks (paragraphs / table rows) joined by "\n\n", ending with "\n"
    paragraphs: list[int] = field(default_factory=list)  # start offset of each block; block k is "paragraph k+1"
    notes: list[Note] = field(default_factory=list)
    headings: set[int] = field(default_factory=set)  # blocks (k) in a heading or title style: not a turn's words


def read_word(data: bytes, source: str) -> WordText:
    """Read a .docx file's body as Word's final view shows it (tracked changes accepted).

    Returns ``WordText(text, paragraphs, notes)``: ``text`` is the blocks joined by
    ``"\\n\\n"`` and ending with ``"\\n"``; ``paragraphs[k]`` is the offset in code
    points (Python ``str`` index) where block k, "paragraph k+1" in the notes, starts;
    ``notes`` reports tracked changes, comments, text boxes, headers, footers,
    footnotes and endnotes (see the module docstring).

    Raises ``IngestError(source, ...)`` when the file is not a readable .docx
    (corrupt, truncated, not a Word document), has no text in its body, or could
    inflate beyond ``safezip.WORD`` (checked before python-docx opens it).
    XML entities are never expanded (python-docx's parser: ``resolve_entities=False``).
    """
    import docx  # python-docx; imported here so the CLI starts fast

    with safezip.open_zip(io.BytesIO(data), source, safezip.WORD, UNREADABLE) as z:
        safezip.verify(z, source)
    try:
        document = docx.Document(io.BytesIO(data))
        reader = _Reader(
            _notes_of(document, "comments"), _notes_of(document, "footnotes"), _notes_of(document, "endnotes")
        )
        reader.heading_styles = {
            style.style_id
            for style in document.styles
            if (style.name or "").lower().startswith(("heading", "title", "見出し", "表題"))
        }
        reader.read_blocks(document.element.body, reader.emit)
        notes = reader.finish() + _header_footer_notes(document)
    except IngestError:
        raise
    except Exception as exc:  # zipfile, lxml and python-docx raise many kinds
        raise IngestError(
            source,
            f"{UNREADABLE}: {exc}",
            ja="Word ファイル（.docx）として読めません（壊れているか、途中で切れている可能性があります）",
        ) from exc
    if not reader.blocks:
        raise IngestError(source, "the .docx file has no text", ja="Word ファイル（.docx）の本文に文字がありません")
    starts, pos = [], 0
    for block in reader.blocks:
        starts.append(pos)
        pos += len(block) + 2
    return WordText("\n\n".join(reader.blocks) + "\n", starts, notes, reader.headings)


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_LENGTH else text[: QUOTE_LENGTH - 1] + "…"


def _plain_text(container) -> str:
    """The final-view text of a part or story (comment, header, text box), blocks joined by spaces."""
    blocks: list[str] = []
    _Reader().read_blocks(container, blocks.append)
    return " ".join(blocks)


def _parts(document, reltype: str):
    for rel in document.part.rels.values():
        if not rel.is_external and rel.reltype == _RT + reltype:
            yield rel.target_part


def _root(part):
    """The XML root of a package part, whether python-docx parsed it or not."""
    from docx.oxml.parser import parse_xml

    element = getattr(part, "element", None)
    return element if element is not None else parse_xml(part.blob)


def _notes_of(document, reltype: str) -> dict[str, tuple[str, str]]:
    """Comments, footnotes or endnotes with text: {id: (author, text)}."""
    found = {}
    for part in _parts(document, reltype):
        for item in _root(part):
            text = _plain_text(item)
            if item.get(qn("w:type")) in (None, "normal") and text:
                found[item.get(qn("w:id"))] = (item.get(qn("w:author")) or "", text)
    return found


def _header_footer_notes(document) -> list[Note]:
    """One note per distinct header and footer text, in section order."""
    notes, seen = [], set()
    for sect in document.element.body.iter(qn("w:sectPr")):
        for ref in sect:
            kind = {qn("w:headerReference"): "header", qn("w:footerReference"): "footer"}.get(ref.tag)
            part = document.part.related_parts.get(ref.get(qn("r:id"))) if kind else None
            text = _plain_text(_root(part)) if part is not None else ""
            if text and (kind, text) not in seen:
                seen.add((kind, text))
                notes.append(Note(kind, f"{kind} left out", _quote(text)))
    return notes


class _Reader:
    """Walks a story (body, cell, header, comment…) and collects its blocks and notes."""

    def __init__(self, comments=None, footnotes=None, endnotes=None):
        self.comments, self.references = comments or {}, {"footnote": footnotes or {}, "endnote": endnotes or {}}
        self.blocks: list[str] = []
        self.notes: list[Note] = []
        self.pending: list[Note] = []  # notes waiting for the next block to name their place
        self.fields: list[str] = []  # stack of complex fields: "code" until fldChar separate, then "result"
        self.changed, self.inserted, self.deleted = False, 0, 0
        self.heading_styles: set[str] = set()
        self.headings: set[int] = set()  # indices of blocks that are headings
        self.in_heading = False

    def note(self, what: str, text: str = "") -> None:
        note = Note("", what, _quote(text))
        self.notes.append(note)
        self.pending.append(note)

    def emit(self, block: str) -> None:
        if self.in_heading:
            self.headings.add(len(self.blocks))
        self.blocks.append(block)
        for note in self.pending:
            note.where = f"paragraph {len(self.blocks)}"
        self.pending = []

    def finish(self) -> list[Note]:
        for note in self.pending:
            note.where = f"after paragraph {len(self.blocks)}"
        for kind, items in (("comment", self.comments), *self.references.items()):
            for author, text in items.values():  # never anchored in the body
                self.notes.append(Note("", f"{kind} left out" + (f" ({author})" if author else ""), _quote(text)))
        if self.changed:
            self.notes.insert(
                0,
                Note(
                    "",
                    f"tracked changes read as accepted (Word's final view): {self.inserted} "
                    f"insertion(s) kept, {self.deleted} deletion(s) left out",
                ),
            )
        return self.notes

    # blocks

    def is_heading(self, paragraph) -> bool:
        """A paragraph in a heading or title style, or with an outline level (Word's navigation pane)."""
        ppr = paragraph.find(qn("w:pPr"))
        if ppr is None:
            return False
        style = ppr.find(qn("w:pStyle"))
        return ppr.find(qn("w:outlineLvl")) is not None or (
            style is not None and style.get(qn("w:val")) in self.heading_styles
        )

    def read_blocks(self, container, emit) -> None:
        """Send each non-empty paragraph or table row of ``container`` to ``emit``."""
        carry = ""  # text of paragraphs whose paragraph mark is deleted, joined to the next one
        for child in container:
            if child.tag == _P:
                text, mark_deleted = self.paragraph(child)
                if mark_deleted and text.strip():
                    self.note("two paragraphs read as one (the paragraph mark between them is a tracked deletion)")
                carry += text
                if not mark_deleted:
                    self.in_heading = self.is_heading(child)
                    _emit_text(carry, emit)
                    carry, self.in_heading = "", False
            elif child.tag in (_TBL, _SDT, _CUSTOM_XML, _ALTERNATE):
                _emit_text(carry, emit)
                carry = ""
                if child.tag == _TBL:
                    for row in _children(child, _TR):
                        self.row(row, emit)
                else:
                    self.read_blocks(_first_choice(child) if child.tag == _ALTERNATE else _content(child), emit)
            elif child.tag in _COMMENT_ANCHORS:
                self.anchor_comment(child)
        _emit_text(carry, emit)

    def row(self, row, emit) -> None:
        cells = []
        for cell in _children(row, _TC):
            lines: list[str] = []
            self.read_blocks(cell, lines.append)
            if "\n".join(lines).strip():
                cells.append("\n".join(lines).strip())
        if len(cells) >= 2 and len(cells[0]) <= 24:
            emit(f"{cells[0]}：{' '.join(cells[1:])}")
        elif cells:
            emit("\n".join(cells))

    # inline content

    def paragraph(self, p) -> tuple[str, bool]:
        """(final-view text, whether its paragraph mark is a tracked deletion or move away)."""
        out: list[str] = []
        self.inline(p, out)
        # a field code never spans paragraphs: an unfinished one must not hide the rest of the file
        self.fields = [state for state in self.fields if state == "result"]
        mark = p.find(f"{qn('w:pPr')}/{qn('w:rPr')}")
        changes = {c.tag for c in mark} & {_DEL, _MOVE_FROM, _INS, _MOVE_TO} if mark is not None else set()
        self.changed = self.changed or bool(changes)
        return "".join(out), bool(changes & {_DEL, _MOVE_FROM})

    def inline(self, parent, out: list[str]) -> None:
        for child in parent:
            tag = child.tag
            if tag == _R:
                self.run(child, out)
            elif tag in (_INS, _MOVE_TO):
                self.changed = True
                before = len(out)
                self.inline(child, out)
                self.inserted += any(out[before:])
            elif tag in (_DEL, _MOVE_FROM):
                self.changed = True
                removed = "".join(self.removed_text(child))
                if removed.strip():
                    self.deleted += 1
                    self.note(
                        "deleted text left out (tracked change)"
                        if tag == _DEL
                        else "moved text left out at its old place (tracked move)",
                        removed,
                    )
            elif tag in _WRAPPERS or tag == _SDT:
                self.inline(_content(child), out)
            elif tag == _ALTERNATE:
                self.inline(_first_choice(child), out)
            elif tag in _COMMENT_ANCHORS:
                self.anchor_comment(child)

    def run(self, run, out: list[str]) -> None:
        for child in run:
            tag = child.tag
            shown = all(state == "result" for state in self.fields)
            if tag == qn("w:fldChar"):
                kind = child.get(qn("w:fldCharType"))
                if kind == "begin":
                    self.fields.append("code")
                elif kind == "separate" and self.fields:
                    self.fields[-1] = "result"
                elif kind == "end" and self.fields:
                    self.fields.pop()
            elif tag == _T and shown:
                out.append(child.text or "")
            elif tag in _RUN_TEXT and shown:
                out.append(_RUN_TEXT[tag])
            elif tag == qn("w:ruby"):
                self.ruby(child, out)
            elif tag in _COMMENT_ANCHORS:
                self.anchor_comment(child)
            elif tag in _NOTE_REFERENCES:
                self.anchor_note(_NOTE_REFERENCES[tag], child)
            elif tag == _ALTERNATE:
                self.run(_first_choice(child), out)
            else:  # drawings, VML shapes, embedded objects: their text boxes are not body text
                for box in _text_boxes(child):
                    if text := _plain_text(box):
                        self.note("text box left out", text)

    def ruby(self, ruby, out: list[str]) -> None:
        base, reading = ruby.find(qn("w:rubyBase")), ruby.find(qn("w:rt"))
        start = len(out)
        if base is not None:
            self.inline(base, out)
        if reading is not None and (said := _plain_text_inline(reading)):
            self.note("ruby reading (furigana) left out", f"{''.join(out[start:])}（{said}）")

    def removed_text(self, element):
        """Yield the text of deleted or moved-away content, anchoring the comments and notes inside it."""
        for child in element:
            tag = child.tag
            if tag in (_T, qn("w:delText")):
                yield child.text or ""
            elif tag in _RUN_TEXT:
                yield " " if _RUN_TEXT[tag] else ""
            elif tag in _COMMENT_ANCHORS:
                self.anchor_comment(child)
            elif tag not in (_FALLBACK, _TXBX, qn("w:instrText"), qn("w:delInstrText")):
                yield from self.removed_text(child)

    def anchor_comment(self, element) -> None:
        author, text = self.comments.pop(element.get(qn("w:id")), ("", ""))
        if text:
            self.note("comment left out" + (f" ({author})" if author else ""), text)

    def anchor_note(self, kind: str, element) -> None:
        _, text = self.references[kind].pop(element.get(qn("w:id")), ("", ""))
        if text:
            self.note(f"{kind} left out", text)


def _emit_text(text: str, emit) -> None:
    """Send a paragraph's text to ``emit`` unless it is empty; blank lines inside it become line breaks."""
    text = _BLANK_LINES.sub("\n", text).strip()
    if text:
        emit(text)


def _content(element):
    """The content of a content control (``w:sdt``); other wrappers are their own content."""
    if element.tag != _SDT:
        return element
    content = element.find(_SDT_CONTENT)
    return content if content is not None else []


def _children(element, tag):
    """Children with ``tag``, looking through content controls and custom XML wrapped around them."""
    for child in element:
        if child.tag == tag:
            yield child
        elif child.tag in (_SDT, _SDT_CONTENT, _CUSTOM_XML):
            yield from _children(child, tag)


def _first_choice(alternate):
    """What Word shows of ``mc:AlternateContent``: its first choice, else its fallback."""
    for tag in (_CHOICE, _FALLBACK):
        found = alternate.find(tag)
        if found is not None:
            return found
    return []


def _text_boxes(element):
    """``w:txbxContent`` elements in a drawing, once each (fallback copies skipped)."""
    if element.tag == _TXBX:
        yield element
    elif element.tag == _ALTERNATE:
        yield from _text_boxes_in(_first_choice(element))
    elif element.tag != _FALLBACK:
        yield from _text_boxes_in(element)


def _text_boxes_in(element):
    for child in element:
        yield from _text_boxes(child)


def _plain_text_inline(element) -> str:
    out: list[str] = []
    _Reader().inline(element, out)
    return "".join(out).strip()

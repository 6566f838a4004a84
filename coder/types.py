"""Plain data carried between the library's modules.

Position unit: every ``start``/``end`` is a Python ``str`` index (a Unicode code
point, not a byte and not a UTF-16 unit) into ``Transcript.text``; ``end`` is
exclusive, so ``transcript.text[seg.start:seg.end] == seg.text`` always holds.
Times are seconds from the start of the recording (VTT/SRT only), else None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict


@dataclass
class Turn:
    """One speaker's uninterrupted utterance; start/end cover the words only (not the label)."""

    speaker: str
    start: int
    end: int
    start_time: float | None = None
    end_time: float | None = None
    # (start, end, start_time, end_time) of each subtitle cue inside the turn
    cues: list[tuple[int, int, float, float]] = field(default_factory=list)
    perspective: str = "unknown"


@dataclass
class Note:
    """A line of an import report: something read in a particular way or left out of the turns.

    ``where`` names the place as the user can find it (``line 3``, ``lines 1–3``, ``paragraph 2``,
    ``cue 4``; line and paragraph numbers are 1-based), ``what`` says what happened, ``text`` quotes
    the content concerned (shortened), if any.
    """

    where: str
    what: str
    text: str = ""

    def __str__(self) -> str:
        quoted = f": {self.text}" if self.text else ""
        return f"{self.where}: {self.what}{quoted}" if self.where else f"{self.what}{quoted}"


@dataclass
class Segment:
    """A coding unit: one sentence of a turn."""

    turn: int
    index: int
    start: int
    end: int
    text: str
    start_time: float | None = None
    end_time: float | None = None
    # [start, end, lemma, norm, tag] per token; offsets like the segment's
    tokens: list[list] = field(default_factory=list)


@dataclass
class Transcript:
    """A parsed source file, before or after it is stored."""

    name: str
    source_file: str
    sha256: str
    encoding: str
    format: str
    original: str  # the decoded file, as it was
    text: str  # the text offsets point into (see the module docstring)
    turns: list[Turn] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    case: str | None = None
    title: str | None = None
    id: int | None = None
    layout: str = ""  # how turns were read: labels, headers, names, questions, document, cues
    notes: list[Note] = field(default_factory=list)  # the import report: what was left out or read specially


@dataclass
class Rule:
    """A cue group of a code: phrases (matched as Sudachi normalised-form sequences), two word
    sets ``near`` each other (within ``window`` mode A units), or a spaCy Matcher pattern;
    ``unless`` phrases cancel the matches they overlap, ``negatable`` groups are cancelled by a
    negation right after the match; a negative weight is a negative cue.
    ``rules.v1`` reads only phrases and patterns; ``rules.v2`` (``suggest/cues.py``) all of it."""

    weight: float = 1.0
    phrases: list[str] = field(default_factory=list)
    pattern: list[dict] | None = None
    label: str | None = None
    near: list[list[str]] | None = None
    window: int | None = None
    unless: list[str] = field(default_factory=list)
    negatable: bool = False


@dataclass
class Code:
    """A codebook code. Its ``id`` never changes (codings store it); a project can rename it, nest it
    under a ``parent``, give it a ``color`` (``#rrggbb``) or retire it (``status`` ``retired``: kept on
    past codings, not offered for new ones; ``merged_into`` names the code that took its codings).
    ``origin`` is ``project`` for a code added in the project rather than written in the YAML file."""

    id: str
    name: str
    name_en: str = ""
    group: str = "further"
    definition: str = ""
    definition_en: str = ""
    use_when: list[str] = field(default_factory=list)
    do_not_use_when: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    parent: str | None = None
    color: str | None = None
    status: str = "active"
    merged_into: str | None = None
    origin: str = ""


@dataclass
class Codebook:
    """A loaded codebook: id, version, title and its codes in order (retired ones included); ``path`` names
    where it was read from (a file, or the project's stored version), for messages."""

    id: str
    version: str
    title: str
    codes: list[Code]
    path: str = ""
    title_en: str = ""
    unit: str = ""

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.codes]

    @property
    def active(self) -> list[Code]:
        """The codes offered for new coding (retired codes stay in ``codes``, for past codings)."""
        return [c for c in self.codes if c.status == "active"]

    def offered(self) -> Codebook:
        """This codebook with its active codes only: what suggesters score and coders may apply."""
        return Codebook(self.id, self.version, self.title, self.active, self.path, self.title_en, self.unit)

    @property
    def version_tag(self) -> str:
        """Stored with every coding and suggestion, e.g. ``renkei@1.0.0``."""
        return f"{self.id}@{self.version}"

    def code(self, code_id: str) -> Code:
        return next(c for c in self.codes if c.id == code_id)


# Rows the library passes around as dicts (they come from SQLite rows and go out as JSON), typed for readers
# and type checkers; nothing checks them at run time.


class CodingRow(TypedDict):
    """A confirmed code in one coding layer (``coder.layers.codings_for``)."""

    segment_id: int
    code: str  # a codebook id, or ``user:<guid>`` for a code imported from another tool
    coder: str  # the layer: an analyst's name, ``consensus``, ``model:<suggesters>`` or ``NAME:recode``


class CodedRow(TypedDict):
    """A ``CodingRow`` with what a quote needs (``coder.layers.coded_rows``); offsets are code points
    into ``transcripts.text``, times seconds (None outside subtitle sources)."""

    transcript_id: int
    transcript: str  # the transcript's name
    case_name: str | None
    title: str | None
    speaker: str
    perspective: str
    idx: int  # the segment's position in its transcript, from 0
    turn: int  # the position of the segment's turn in its transcript, from 1 (turns.idx + 1)
    start: int
    end: int
    start_time: float | None
    end_time: float | None
    text: str
    segment_id: int
    code: str
    coder: str
    score: float | None  # the suggestion score of the code on the segment, None if never scored


class SuggestionRow(TypedDict):
    """A row of ``suggestions`` as the suggesters store it (``coder.db.store_suggestions``)."""

    segment_id: int
    code: str
    score: float  # 0–1
    threshold: float  # the code's threshold for this segment
    selected: int  # 1 if score >= threshold (the model layer), else 0
    reasons: str  # JSON list of the reasons shown for the score
    suggesters: str  # the suggester versions, e.g. ``rules.v2+embedding.v1``; names the model layer
    codebook_version: str  # ``Codebook.version_tag``
    created_at: str  # ISO time, UTC


class SegmentState(TypedDict):
    """An interviewee segment as the coding view shows it to one coder (``coder.coding.states``)."""

    id: int
    transcript_id: int
    idx: int  # the segment's position in its transcript, from 0
    text: str
    start: int  # code points into transcripts.text
    end: int
    start_time: float | None  # seconds
    turn: int  # the position of the segment's turn in its transcript, from 0 (turns.idx)
    speaker: str
    perspective: str
    suggested: list[str]  # codes whose suggestion is above threshold (empty when suggestions are hidden)
    scores: dict[str, float]  # every scored code, rounded to 3 places
    reasons: dict[str, list]  # for suggested codes and near misses
    uncertainty: float  # 0–1, highest over the codes
    mine: dict[str, str]  # the coder's own codings: code → confirmed|rejected
    reviewed: bool  # the coder finished the segment ("confirm and next")
    others: dict[str, list[str]]  # other layers' confirmed codes (empty when not shown: blind mode)


class UndoneState(SegmentState):
    """``SegmentState`` after ``coder.coding.undo``, with ``undone``: the action taken back."""

    undone: str

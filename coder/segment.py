"""Turns → segments (sentences). GiNZA enters the project here, and only here.

Within a turn, blank lines and bulleted lines start a new paragraph; the lines of
a paragraph are joined without their line breaks before parsing (PDF-style breaks
inside a sentence), and every parser offset is mapped back to ``Transcript.text``.
Paragraphs longer than ``MAX_CHUNK`` characters are cut at the last sentence-final
mark, else comma, else space, else hard, because Sudachi rejects inputs over
49,149 bytes and long inputs cost memory. After parsing, a sentence boundary
inside balanced 「」 or 『』 is undone (quoted speech stays with its sentence), so is
one the parser puts mid-sentence (not after 。！？．…) in a paragraph that uses
sentence-final marks (unpunctuated text, e.g. automatic captions, keeps the
parser's breaks), and a "sentence" of punctuation only joins its neighbour.
No cut and no sentence boundary falls inside a user-perceived character
(an emoji ZWJ sequence, a skin-tone modifier, a variation selector, a flag,
a combining or half-width sound mark stays with the character it modifies).
"""

from __future__ import annotations

import bisect
import re
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from .types import Segment, Transcript, Turn

MODEL = "ja_ginza"
# doc.sents needs tok2vec + parser only; lemmas, norms and Sudachi tags come from the tokenizer
EXCLUDE = ["ner", "morphologizer", "compound_splitter", "bunsetu_recognizer"]
MAX_CHUNK = 1500
# nlp.pipe's default of 1000 docs per batch is ~2x slower here (memory-bound) and gives
# a second process nothing to do on interview-sized inputs; 32 measured best.
BATCH_SIZE = 32
_BULLET = re.compile(r"[・●■□◆◇※•\-*]|\d+[.)．）]|[（(]\d+[)）]|[①-⑳]")
_CUTS = ["。．！？!?", "、，,", " \u3000\t"]
_WORD = re.compile(r"\w")
_QUOTES = {"「": "」", "『": "』"}
_FINAL = "。！？!?．…"
_CLOSERS = "」』）)】〕》〉”’\"' \u3000"


def _extends(ch: str) -> bool:
    """Whether ``ch`` belongs to the character before it (Unicode grapheme extenders and spacing marks,
    ZWJ, emoji modifiers and tags, half-width ﾞﾟ)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or ch in "\u200d\uff9e\uff9f"
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
    )


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def grapheme_boundary(text: str, i: int) -> bool:
    """Whether ``text[:i]`` / ``text[i:]`` is a cut that splits no user-perceived character
    (a simplified UAX #29: enough for emoji sequences, variation selectors and marks)."""
    if i <= 0 or i >= len(text):
        return True
    if _extends(text[i]) or text[i - 1] == "\u200d":
        return False
    if _regional(text[i]) and _regional(text[i - 1]):  # flags are pairs of regional indicators
        k = i
        while k > 0 and _regional(text[k - 1]):
            k -= 1
        return (i - k) % 2 == 0
    return True


# GiNZA's tokenizer (SudachiPy) is not thread-safe: two threads parsing with one pipeline fail
# with "Already borrowed". Each pipeline costs ~0.9 GB, so threads take turns instead of each
# loading their own: whoever parses with a pipeline from this module holds GINZA.
GINZA = threading.RLock()


@lru_cache(maxsize=4)
def _load(model: str, exclude: tuple[str, ...]):
    import spacy

    return spacy.load(model, exclude=list(exclude))


def load_nlp(model: str = MODEL):
    """Load GiNZA once per process with only the components sentence splitting needs. Parse with it
    while holding ``GINZA`` if other threads may parse too (``segment_transcripts`` does)."""
    with GINZA:
        return _load(model, tuple(EXCLUDE))


def load_ner(model: str = MODEL):
    """Load GiNZA once per process with only what named entities need (``tok2vec`` + ``ner``, whose
    entities are the same as the full pipeline's); used by ``coder.pseudonymise``. Parse while
    holding ``GINZA``."""
    with GINZA:
        return _load(model, tuple(p for p in (*EXCLUDE, "parser") if p != "ner"))


class Chunk:
    """A paragraph (or part of one) as the parser sees it, with a map back to the transcript."""

    __slots__ = ("text", "norm_starts", "orig_starts")

    def __init__(self, pieces: list[tuple[int, int]], source: str):
        self.text = "".join(source[s:e] for s, e in pieces)
        self.norm_starts, self.orig_starts, n = [], [], 0
        for s, e in pieces:
            self.norm_starts.append(n)
            self.orig_starts.append(s)
            n += e - s

    def start(self, i: int) -> int:
        if len(self.norm_starts) == 1:  # one line: a constant shift
            return self.orig_starts[0] + i
        k = bisect.bisect_right(self.norm_starts, i) - 1
        return self.orig_starts[k] + i - self.norm_starts[k]

    def end(self, i: int) -> int:
        return self.start(i - 1) + 1


def chunks(text: str, start: int, end: int, max_chars: int = MAX_CHUNK) -> list[Chunk]:
    """Split ``text[start:end]`` into parser inputs (see the module docstring)."""
    paragraphs, pieces = [], []
    pos = start
    for line in text[start:end].split("\n"):
        s, e = pos, pos + len(line)
        pos = e + 1
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s == e or _BULLET.match(text, s):
            if pieces:
                paragraphs.append(pieces)
            pieces = []
        if s < e:
            pieces.append((s, e))
    if pieces:
        paragraphs.append(pieces)
    out = []
    for pieces in paragraphs:
        out.extend(_cut(Chunk(pieces, text), max_chars, text))
    return out


def _cut(chunk: Chunk, max_chars: int, text: str) -> list[Chunk]:
    if len(chunk.text) <= max_chars:
        return [chunk]
    out, i = [], 0
    while i < len(chunk.text):
        j = min(i + max_chars, len(chunk.text))
        if j < len(chunk.text):
            window = chunk.text[i:j]
            for marks in _CUTS:
                k = max(window.rfind(m) for m in marks)
                if k > max_chars // 4:
                    j = i + k + 1
                    break
            k = j
            while k > i + 1 and not grapheme_boundary(chunk.text, k):
                k -= 1
            j = k if k > i + 1 else j
        out.append(Chunk(_sub_pieces(chunk, i, j), text))
        i = j
    return out


def _sub_pieces(chunk: Chunk, i: int, j: int) -> list[tuple[int, int]]:
    bounds = sorted({i, j} | {n for n in chunk.norm_starts if i < n < j})
    return [(chunk.start(a), chunk.end(b)) for a, b in zip(bounds, bounds[1:])]


def _quote_spans(text: str) -> list[tuple[int, int]]:
    spans, stack = [], []
    for i, ch in enumerate(text):
        if ch in _QUOTES:
            stack.append((ch, i))
        elif stack and ch == _QUOTES[stack[-1][0]]:
            spans.append((stack.pop()[1], i))
    return spans


def _ends_sentence(text: str, i: int) -> bool:
    """Whether ``text[:i]`` ends with a sentence-final mark (closing brackets and spaces aside)."""
    while i > 0 and text[i - 1] in _CLOSERS:
        i -= 1
    return i > 0 and text[i - 1] in _FINAL


def sentence_bounds(doc, text: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets in ``doc`` (whose text is ``text``), after the quote and punctuation fixes."""
    bounds = [[s.start_char, s.end_char] for s in doc.sents]
    quotes = _quote_spans(text)
    punctuated = any(ch in _FINAL for ch in text)
    merged: list[list[int]] = []
    for b in bounds:
        inside = any(o < b[0] <= c for o, c in quotes)
        mid_sentence = punctuated and not _ends_sentence(text, b[0])
        split = not grapheme_boundary(text, b[0])  # the parser cut an emoji sequence or a mark off its base
        if merged and (inside or mid_sentence or split or not _WORD.search(text[b[0] : b[1]])):
            merged[-1][1] = b[1]
        else:
            merged.append(b)
    if len(merged) > 1 and not _WORD.search(text[merged[0][0] : merged[0][1]]):
        punctuation_only = merged.pop(0)  # (popped before indexing: the next sentence is now merged[0])
        merged[0][0] = punctuation_only[0]
    return [(s, e) for s, e in merged]


def _times(turn: Turn, start: int, end: int) -> tuple[float | None, float | None]:
    if not turn.cues:
        return turn.start_time, turn.end_time
    first = next((c for c in reversed(turn.cues) if c[0] <= start), turn.cues[0])
    last = next((c for c in turn.cues if c[1] >= end), turn.cues[-1])
    return first[2], last[3]


def segment_transcripts(
    nlp,
    transcripts: list[Transcript],
    n_process: int = 1,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Fill ``transcript.segments`` for every transcript, parsing all of them in one ``nlp.pipe``.

    Plain strings go to ``nlp.pipe`` (not ``as_tuples``, whose Doc inputs spaCy
    tokenises in the parent process before handing them to workers).
    """
    jobs = [
        (chunk, ti, ni)
        for ti, t in enumerate(transcripts)
        for ni, turn in enumerate(t.turns)
        for chunk in chunks(t.text, turn.start, turn.end)
    ]
    for t in transcripts:
        t.segments = []
    with GINZA:  # one parse at a time per process (see GINZA)
        docs = nlp.pipe((chunk.text for chunk, _, _ in jobs), n_process=n_process, batch_size=batch_size)
        for doc, (chunk, ti, ni) in zip(docs, jobs):
            t = transcripts[ti]
            t.segments.extend(_segments(doc, chunk, t, ni))
            if progress:
                progress(len(chunk.text))
    for t in transcripts:
        for i, seg in enumerate(t.segments):
            seg.index = i


def _segments(doc, chunk: Chunk, t: Transcript, ni: int) -> list[Segment]:
    out, text = [], chunk.text
    for s, e in sentence_bounds(doc, text):
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s == e:
            continue
        start, end = chunk.start(s), chunk.end(e)
        tokens = [
            [chunk.start(tok.idx), chunk.end(tok.idx + len(tok)), tok.lemma_, tok.norm_, tok.tag_]
            for tok in doc.char_span(s, e, alignment_mode="expand")
            if not tok.is_space
        ]
        start_time, end_time = _times(t.turns[ni], start, end)
        out.append(
            Segment(
                turn=ni,
                index=0,
                start=start,
                end=end,
                text=t.text[start:end],
                start_time=start_time,
                end_time=end_time,
                tokens=tokens,
            )
        )
    return out

"""Sudachi analysis for suggesters: fast tokenisation without the parser.

Rules match on split mode A normalised forms (short units, so アセスメント matches
inside アセスメントシート and 引継ぎ/引き継ぎ/引き継ぐ agree); embeddings and the
learner use content words in split mode C (the units ja-ginza's vectors are keyed by).
SudachiPy is called directly: spaCy's Japanese tokenizer wrapper spends most of its
time on sub-token and reading fields that suggestions never use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

from ..segment import grapheme_boundary

# Sudachi POS (first level) that carry no topic: particles, auxiliaries, symbols, blanks
_FUNCTION = {"助詞", "助動詞", "補助記号", "記号", "空白", "接頭辞", "感動詞", "代名詞"}
MAX_CHARS = 10_000  # a Sudachi input of at most 40,000 UTF-8 bytes: under its 49,149-byte limit
_PIECE_ENDS = "。！？!?\n 　"
# light verbs and fillers: する, いる, なる, ある, ...
_LIGHT = {
    "為る",
    "居る",
    "成る",
    "有る",
    "言う",
    "思う",
    "行う",
    "其の",
    "此の",
    "事",
    "物",
    "所",
    "様",
    "為",
    "方",
    "的",
}


@lru_cache(maxsize=1)
def _dictionary():
    from sudachipy import Dictionary

    return Dictionary(dict="core")


_local = threading.local()


def _sudachi():
    """This thread's Sudachi tokenizer and SplitMode. A SudachiPy tokenizer is not thread-safe (two
    threads using one fail with "Already borrowed"); the dictionary is shared, a tokenizer costs ~10 µs."""
    from sudachipy import SplitMode

    if not hasattr(_local, "tokenizer"):
        _local.tokenizer = _dictionary().create()
    return _local.tokenizer, SplitMode


@lru_cache(maxsize=1)
def vocab():
    """The one shared spaCy ``Vocab`` (created once) of the rule suggesters' Docs and matchers."""
    from spacy.vocab import Vocab

    return Vocab()


def doc_a(text: str, morphology: bool = False):
    """A spaCy Doc of split mode A morphemes for rule matching.

    Tokens carry ORTH (as written) and NORM (Sudachi normalised form); with ``morphology``
    also LEMMA (dictionary form) and TAG (Sudachi POS, e.g. ``名詞-普通名詞-一般``), which
    cost about twice the time, so only rules that use them ask for them.
    """
    from spacy.tokens import Doc

    _, mode = _sudachi()
    morphemes = [m for _, m in _morphemes(text, mode.A)]
    extra = {}
    if morphology:
        extra = {
            "lemmas": [m.dictionary_form() for m in morphemes],
            "tags": ["-".join(p for p in m.part_of_speech()[:4] if p != "*") for m in morphemes],
        }
    doc = Doc(vocab(), words=[m.surface() for m in morphemes], spaces=[False] * len(morphemes), **extra)
    for token, m in zip(doc, morphemes):
        token.norm_ = m.normalized_form()
    return doc


def content_norms(text: str) -> list[str]:
    """Normalised forms of the content words (split mode C), without proper nouns.

    Names of people, organisations and places are case-specific: a learner trained on one
    organisation's interviews must not tie a code to that organisation's name.
    """
    _, mode = _sudachi()
    return [m.normalized_form() for _, m in _morphemes(text, mode.C) if _content(m)]


@dataclass(frozen=True, slots=True)
class Morph:
    """A split mode A unit with the mode C word it belongs to.

    ``start``/``end`` are code-point offsets into the analysed text (end exclusive).
    ``first``/``last`` say whether the unit begins/ends its mode C word, so a cue can be
    told apart from a piece of a longer compound (キャリア inside キャリアコンサルタント).
    """

    start: int
    end: int
    surface: str
    norm: str
    lemma: str
    pos: tuple[str, ...]  # Sudachi part of speech (6 levels, ``*`` for none)
    first: bool
    last: bool

    @property
    def tag(self) -> str:
        """The part of speech as rules match it, e.g. ``名詞-普通名詞-一般``."""
        return "-".join(p for p in self.pos[:4] if p != "*")


@dataclass(frozen=True, slots=True)
class Analysis:
    """One text's mode A units (for rules) and mode C content-word norms (for embeddings, features)."""

    morphs: tuple[Morph, ...]
    content: tuple[str, ...]


def _content(m) -> bool:
    pos = m.part_of_speech()
    return pos[0] not in _FUNCTION and pos[1] != "固有名詞" and m.normalized_form() not in _LIGHT


def analysis(text: str) -> Analysis:
    """Tokenise ``text`` once (split mode C) and split each word into its mode A units."""
    _, mode = _sudachi()
    morphs, content = [], []
    for offset, word in _morphemes(text, mode.C):
        if _content(word):
            content.append(word.normalized_form())
        units = [m for m in word.split(mode.A) if m.surface()] or [word]
        for i, m in enumerate(units):
            morphs.append(
                Morph(
                    offset + m.begin(),
                    offset + m.end(),
                    m.surface(),
                    m.normalized_form(),
                    m.dictionary_form(),
                    m.part_of_speech(),
                    i == 0,
                    i == len(units) - 1,
                )
            )
    return Analysis(tuple(morphs), tuple(content))


def phrase_norms(phrase: str) -> tuple[str, ...]:
    """A rule phrase as the sequence of mode A normalised forms it is matched on."""
    _, mode = _sudachi()
    return tuple(m.normalized_form() for _, m in _morphemes(phrase, mode.A))


def _morphemes(text: str, mode):
    """(offset of the piece it came from, morpheme) for every morpheme of ``text`` that has text.

    Sudachi reads ``…`` and ``‥`` as several full stops, all but one without any text; such empty
    morphemes are left out here, once for every path (rules, embeddings, learner, topic words), since
    an empty token breaks spaCy Docs and matchers. Text longer than Sudachi's input limit is
    tokenised in pieces (``_pieces``); a morpheme's ``begin()``/``end()`` are offsets into its piece.
    """
    tokenizer, _ = _sudachi()
    for offset, piece in _pieces(text):
        for m in tokenizer.tokenize(piece, mode):
            if m.surface():
                yield offset, m


def _pieces(text: str, size: int = MAX_CHARS):
    """(offset, piece) of ``text`` cut into pieces of at most ``size`` characters: after the last
    sentence end, line break or space of a piece where there is one, else at a character boundary
    (never inside an emoji sequence or before a variation selector)."""
    i = 0
    while len(text) - i > size:
        k = max(text.rfind(c, i, i + size) for c in _PIECE_ENDS)
        j = k + 1 if k > i + size // 2 else i + size
        while j > i + 1 and not grapheme_boundary(text, j):
            j -= 1
        yield i, text[i:j]
        i = j
    yield i, text[i:]

"""Sudachi analysis for suggesters: fast tokenisation without the parser.

Rules match on split mode A normalised forms (short units, so アセスメント matches
inside アセスメントシート and 引継ぎ/引き継ぎ/引き継ぐ agree); embeddings and the
learner use content words in split mode C (the units ja-ginza's vectors are keyed by).
SudachiPy is called directly: spaCy's Japanese tokenizer wrapper spends most of its
time on sub-token and reading fields that suggestions never use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# Sudachi POS (first level) that carry no topic: particles, auxiliaries, symbols, blanks
_FUNCTION = {"助詞", "助動詞", "補助記号", "記号", "空白", "接頭辞", "感動詞", "代名詞"}
# light verbs and fillers: する, いる, なる, ある, ...
_LIGHT = {"為る", "居る", "成る", "有る", "言う", "思う", "行う", "其の", "此の", "事", "物", "所", "様", "為", "方", "的"}


@lru_cache(maxsize=1)
def _sudachi():
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").create(), SplitMode


@lru_cache(maxsize=1)
def vocab():
    from spacy.vocab import Vocab

    return Vocab()


def doc_a(text: str, morphology: bool = False):
    """A spaCy Doc of split mode A morphemes for rule matching.

    Tokens carry ORTH (as written) and NORM (Sudachi normalised form); with ``morphology``
    also LEMMA (dictionary form) and TAG (Sudachi POS, e.g. ``名詞-普通名詞-一般``), which
    cost about twice the time, so only rules that use them ask for them.
    """
    from spacy.tokens import Doc

    tokenizer, mode = _sudachi()
    morphemes = [m for m in tokenizer.tokenize(text, mode.A) if m.surface()]  # … becomes ". . ." with two empty
    extra = {}
    if morphology:
        extra = {"lemmas": [m.dictionary_form() for m in morphemes],
                 "tags": ["-".join(p for p in m.part_of_speech()[:4] if p != "*") for m in morphemes]}
    doc = Doc(vocab(), words=[m.surface() for m in morphemes], spaces=[False] * len(morphemes), **extra)
    for token, m in zip(doc, morphemes):
        token.norm_ = m.normalized_form()
    return doc


def content_norms(text: str) -> list[str]:
    """Normalised forms of the content words (split mode C), without proper nouns.

    Names of people, organisations and places are case-specific: a learner trained on one
    organisation's interviews must not tie a code to that organisation's name.
    """
    tokenizer, mode = _sudachi()
    return [m.normalized_form() for m in tokenizer.tokenize(text, mode.C) if _content(m)]


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
    tokenizer, mode = _sudachi()
    morphs, content = [], []
    for word in tokenizer.tokenize(text, mode.C):
        if _content(word):
            content.append(word.normalized_form())
        units = [m for m in word.split(mode.A) if m.surface()] or [word]
        if not word.surface():  # Sudachi reads … as three full stops, two of them without any text
            continue
        for i, m in enumerate(units):
            morphs.append(Morph(m.begin(), m.end(), m.surface(), m.normalized_form(), m.dictionary_form(),
                                m.part_of_speech(), i == 0, i == len(units) - 1))
    return Analysis(tuple(morphs), tuple(content))


def phrase_norms(phrase: str) -> tuple[str, ...]:
    """A rule phrase as the sequence of mode A normalised forms it is matched on."""
    tokenizer, mode = _sudachi()
    return tuple(m.normalized_form() for m in tokenizer.tokenize(phrase, mode.A))

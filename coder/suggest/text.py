"""Sudachi analysis for suggesters: fast tokenisation without the parser.

Rules match on split mode A normalised forms (short units, so アセスメント matches
inside アセスメントシート and 引継ぎ/引き継ぎ/引き継ぐ agree); embeddings and the
learner use content words in split mode C (the units ja-ginza's vectors are keyed by).
SudachiPy is called directly: spaCy's Japanese tokenizer wrapper spends most of its
time on sub-token and reading fields that suggestions never use.
"""

from __future__ import annotations

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
    morphemes = tokenizer.tokenize(text, mode.A)
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
    out = []
    for m in tokenizer.tokenize(text, mode.C):
        pos = m.part_of_speech()
        if pos[0] not in _FUNCTION and pos[1] != "固有名詞" and m.normalized_form() not in _LIGHT:
            out.append(m.normalized_form())
    return out


def analyse(texts: list[str]) -> tuple[list, list[list[str]]]:
    """Mode-A docs (for rules) and mode-C content-word norms (for embeddings and features)."""
    return [doc_a(t) for t in texts], [content_norms(t) for t in texts]

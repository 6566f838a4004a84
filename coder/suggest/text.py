"""Sudachi analysis for suggesters: fast tokenisation without the parser.

Rules match on split mode A normalised forms (short units, so アセスメント matches
inside アセスメントシート and 引継ぎ/引き継ぎ/引き継ぐ agree); embeddings and the
learner use content words in split mode C (the units ja-ginza's vectors are keyed by).
"""

from __future__ import annotations

from functools import lru_cache

# Sudachi POS prefixes that carry no topic: particles, auxiliaries, symbols, blanks
_FUNCTION = ("助詞", "助動詞", "補助記号", "記号", "空白", "接頭辞", "感動詞", "代名詞")
# light verbs and fillers: する, いる, なる, ある, ...
_LIGHT = {"為る", "居る", "成る", "有る", "言う", "思う", "行う", "其の", "此の", "事", "物", "所", "様", "為", "方", "的"}


@lru_cache(maxsize=1)
def tokenizers():
    """(mode A, mode C) spaCy Japanese tokenizers over one shared vocab."""
    import spacy
    from spacy.lang.ja import JapaneseTokenizer

    vocab = spacy.blank("ja").vocab
    return JapaneseTokenizer(vocab, split_mode="A"), JapaneseTokenizer(vocab, split_mode="C")


def content_norms(doc) -> list[str]:
    return [t.norm_ for t in doc if not t.tag_.startswith(_FUNCTION) and t.norm_ not in _LIGHT]


def analyse(texts: list[str]) -> tuple[list, list[list[str]]]:
    """Mode-A docs (for rules) and mode-C content-word norms (for embeddings and features)."""
    mode_a, mode_c = tokenizers()
    return [mode_a(t) for t in texts], [content_norms(mode_c(t)) for t in texts]

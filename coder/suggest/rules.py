"""``rules.v1``: codebook rules matched with spaCy's PhraseMatcher/Matcher on normalised forms.

A code's rule score is ``1 - exp(-sum of the weights of its distinct matched rules)``:
one strong phrase (weight 1) gives 0.63, two give 0.86, one weak phrase (0.5) 0.39.
Reasons name the matched words as written in the segment.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import CoderError
from . import register
from .text import doc_a, vocab

VERSION = "rules.v1"


class RuleSuggester:
    """The ``rules.v1`` suggester: codebook rules matched with spaCy's PhraseMatcher (NORM) and Matcher.
    ``score`` gives rule scores 0–1 [n, codes] and reasons; ``CoderError`` for an invalid Matcher pattern."""

    version = VERSION

    def __init__(self, codebook):
        from spacy.matcher import Matcher, PhraseMatcher

        self.codebook = codebook
        self.phrases = PhraseMatcher(vocab(), attr="NORM")
        self.patterns = Matcher(vocab())
        self.meta: dict[str, tuple[int, float, str]] = {}  # match key → (code index, weight, label)
        self.morphology = any(
            attr.upper() in ("LEMMA", "TAG")
            for code in codebook.codes
            for rule in code.rules
            for token in (rule.pattern or [])
            for attr in token
        )
        for ci, code in enumerate(codebook.codes):
            for ri, rule in enumerate(code.rules):
                key = f"{code.id}/{ri}"
                if rule.pattern:
                    try:
                        self.patterns.add(key, [rule.pattern])
                    except ValueError as exc:
                        raise CoderError(
                            f"{codebook.path}: code {code.id!r}, rule {rule.label!r}: "
                            f"invalid Matcher pattern: {str(exc).splitlines()[0]}"
                        ) from exc
                    self.meta[key] = (ci, rule.weight, rule.label)
                for pi, phrase in enumerate(rule.phrases):
                    pkey = f"{key}/{pi}"
                    self.phrases.add(pkey, [doc_a(phrase)])
                    self.meta[pkey] = (ci, rule.weight, phrase)

    def matches(self, doc) -> dict[int, dict[str, tuple[float, str]]]:
        """code index → {rule label: (weight, matched text)} for one mode-A doc."""
        out: dict[int, dict[str, tuple[float, str]]] = {}
        strings = doc.vocab.strings
        found = [*self.phrases(doc), *(self.patterns(doc) if len(self.patterns) else [])]
        for match_id, start, end in found:
            ci, weight, label = self.meta[strings[match_id]]
            hits = out.setdefault(ci, {})
            if label not in hits or hits[label][0] < weight:
                hits[label] = (weight, doc[start:end].text)
        return out

    def score(self, batch):
        scores = np.zeros((len(batch), len(self.codebook.codes)))
        reasons = [{} for _ in range(len(batch))]
        docs = [doc_a(t, morphology=self.morphology) for t in batch.texts]
        for i, doc in enumerate(docs):
            for ci, hits in self.matches(doc).items():
                scores[i, ci] = 1 - math.exp(-max(0.0, sum(w for w, _ in hits.values())))
                words = sorted(hits.values(), key=lambda h: -h[0])
                reasons[i][self.codebook.codes[ci].id] = ["ルール: " + "、".join(f"「{t}」" for _, t in words[:4])]
        return scores, reasons

    def match_texts(self, texts: list[str]) -> list[set[str]]:
        """Code ids whose rules match each text (used by ``codebook lint``)."""
        return [{self.codebook.codes[ci].id for ci in self.matches(doc_a(t))} for t in texts]


@register(VERSION)
def make_rules(codebook, **_):
    """Factory of ``rules.v1`` (registered): a ``RuleSuggester`` for ``codebook``."""
    return RuleSuggester(codebook)

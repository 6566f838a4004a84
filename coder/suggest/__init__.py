"""Code suggestions: small registered suggesters (``rules.v1``, ``embedding.v1``, ``learned.v1``)
whose scores ``combine.py`` merges into one score per (segment, code) with reasons.

Heavy imports (spaCy matchers, sentence-transformers, scikit-learn) happen inside the
factories, so importing this package is cheap.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

REGISTRY: dict[str, Callable] = {}


def text_key(text: str) -> str:
    """The hash that identifies a text in caches and in training-set look-ups."""
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def register(name: str):
    def decorator(factory):
        REGISTRY[name] = factory
        return factory

    return decorator


def create(name: str, codebook, **kwargs):
    from . import embedding, learned, rules  # noqa: F401  (fill the registry)

    try:
        return REGISTRY[name](codebook, **kwargs)
    except KeyError:
        raise KeyError(f"unknown suggester {name!r}; registered: {', '.join(sorted(REGISTRY))}") from None


class Batch:
    """Texts to score, with their analyses and embeddings computed once and shared by suggesters."""

    def __init__(self, texts: list[str], embedder=None, perspectives: list[str | None] | None = None):
        self.texts = list(texts)
        self.perspectives = perspectives or [None] * len(self.texts)
        self.embedder = embedder
        self._analysis = None
        self._embeddings = None
        self.scores: dict = {}  # suggesters' (scores, reasons), keyed by the suggesters; see Combiner

    def __len__(self) -> int:
        return len(self.texts)

    def _analyse(self):
        if self._analysis is None:
            from .text import analyse

            self._analysis = analyse(self.texts)
        return self._analysis

    @property
    def docs_a(self):
        return self._analyse()[0]

    @property
    def content(self) -> list[list[str]]:
        return self._analyse()[1]

    @property
    def embeddings(self):
        if self._embeddings is None:
            self._embeddings = self.embedder.encode(self)
        return self._embeddings

    def subset(self, index) -> "Batch":
        sub = Batch([self.texts[i] for i in index], self.embedder, [self.perspectives[i] for i in index])
        if self._analysis is not None:
            sub._analysis = ([self._analysis[0][i] for i in index], [self._analysis[1][i] for i in index])
        if self._embeddings is not None:
            sub._embeddings = self._embeddings[list(index)]
        sub.scores = {key: tuple(v[list(index)] if isinstance(v, np.ndarray) else [v[i] for i in index] for v in value)
                      for key, value in self.scores.items()}
        return sub

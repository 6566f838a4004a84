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
    """Decorator: register a suggester factory ``factory(codebook, **kwargs)`` in ``REGISTRY`` under ``name``;
    returns it unchanged."""

    def decorator(factory):
        REGISTRY[name] = factory
        return factory

    return decorator


def create(name: str, codebook, **kwargs):
    """A new suggester ``name`` for ``codebook`` (``kwargs`` go to its factory); ``KeyError`` listing the
    registered names for an unknown one."""
    from . import cues, embedding, learned, learned_v2, rules  # noqa: F401  (fill the registry)

    try:
        return REGISTRY[name](codebook, **kwargs)
    except KeyError:
        raise KeyError(f"unknown suggester {name!r}; registered: {', '.join(sorted(REGISTRY))}") from None


class Batch:
    """Texts to score, with their analyses and embeddings computed once and shared by suggesters.

    ``perspectives`` gives each text's speaker voice (person / supporter / employer / None).
    ``cache`` holds suggesters' per-text results (cue hits, feature rows, learner matrices);
    a subset or a join keeps the rows that were already computed.
    """

    def __init__(self, texts: list[str], embedder=None, perspectives: list[str | None] | None = None):
        self.texts = list(texts)
        self.perspectives = list(perspectives) if perspectives is not None else [None] * len(self.texts)
        self.embedder = embedder
        self._analyses = None
        self._embeddings = None
        self.cache: dict = {}

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def analyses(self):
        """One ``text.Analysis`` per text (mode A units with word boundaries, content words)."""
        if self._analyses is None:
            from .text import analysis

            self._analyses = [analysis(t) for t in self.texts]
        return self._analyses

    @property
    def content(self) -> list[tuple[str, ...]]:
        """Each text's content words (Sudachi split mode C normalised forms, no proper nouns)."""
        return [a.content for a in self.analyses]

    @property
    def embeddings(self):
        if self._embeddings is None:
            self._embeddings = self.embedder.encode(self)
        return self._embeddings

    def subset(self, index) -> "Batch":
        index = list(index)
        sub = Batch([self.texts[i] for i in index], self.embedder, [self.perspectives[i] for i in index])
        if self._analyses is not None:
            sub._analyses = [self._analyses[i] for i in index]
        if self._embeddings is not None:
            sub._embeddings = self._embeddings[index]
        sub.cache = {key: _rows(value, index) for key, value in self.cache.items()}
        return sub

    @staticmethod
    def join(*batches: "Batch") -> "Batch":
        """One batch of the texts of ``batches`` in order, keeping what each has computed."""
        out = Batch(
            [t for b in batches for t in b.texts], batches[0].embedder, [p for b in batches for p in b.perspectives]
        )
        if all(b._analyses is not None for b in batches):
            out._analyses = [a for b in batches for a in b._analyses]
        if all(b._embeddings is not None for b in batches):
            out._embeddings = np.vstack([b._embeddings for b in batches])
        for key in set.intersection(*(set(b.cache) for b in batches)):
            parts = [b.cache[key] for b in batches]
            if isinstance(parts[0], np.ndarray):
                out.cache[key] = np.vstack(parts)
            elif isinstance(parts[0], list):
                out.cache[key] = [x for p in parts for x in p]
        return out


def _rows(value, index):
    """The rows ``index`` of a per-text array, sparse matrix or list (or a tuple of them)."""
    if isinstance(value, tuple):
        return tuple(_rows(v, index) for v in value)
    if isinstance(value, np.ndarray) or hasattr(value, "tocsr"):
        return value[index]
    return [value[i] for i in index]

"""``learned.v1``: a one-vs-rest, class-balanced logistic regression per code over the
segment's embedding, its content words (TF-IDF, proper nouns left out) and the rule and
embedding scores, trained from confirmed codings (and ``--train`` files). ``combine``
calibrates its probabilities (Platt scaling on out-of-fold scores). Training on hundreds
of segments takes well under a second, so it runs after every batch of confirmations.
"""

from __future__ import annotations

import numpy as np

from . import register

VERSION = "learned.v1"
MIN_POSITIVES = 3  # a code with fewer confirmed segments gets no model (cold scores only)
C = 1.0  # inverse regularisation strength of each code's logistic regression


class LearnedSuggester:
    """The ``learned.v1`` suggester: a class-balanced logistic regression per code with at least
    ``MIN_POSITIVES`` positive and negative confirmed segments. ``score`` gives probabilities [n, codes]
    (NaN where a code has no model) and reasons."""

    version = VERSION

    def __init__(self, codebook):
        self.codebook = codebook
        self.models: dict[int, object] = {}
        self.positives = np.zeros(len(codebook.codes), dtype=int)

    def features(self, batch, base: np.ndarray | None):
        """Embedding, TF-IDF of content words, and ``base`` (the other suggesters' scores)."""
        from scipy.sparse import csr_matrix, hstack

        parts = [csr_matrix(batch.embeddings)] if batch.embedder is not None else []
        parts.append(self.vectorizer.transform(batch.content))
        if base is not None:
            parts.append(csr_matrix(base))
        return hstack(parts).tocsr()

    def fit(self, batch, Y: np.ndarray, base: np.ndarray | None = None) -> "LearnedSuggester":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.positives = Y.sum(axis=0).astype(int)
        self.models = {}
        trainable = [
            ci for ci in range(Y.shape[1]) if min(self.positives[ci], len(Y) - self.positives[ci]) >= MIN_POSITIVES
        ]
        if not trainable:  # too few confirmations yet (e.g. the first one): cold scores only
            return self
        self.vectorizer = TfidfVectorizer(analyzer=lambda words: words, sublinear_tf=True, min_df=1)
        self.vectorizer.fit(batch.content)
        self.words = np.array(self.vectorizer.get_feature_names_out())
        self.n_dense = batch.embeddings.shape[1] if batch.embedder is not None else 0
        X = self.features(batch, base)
        for ci in trainable:
            model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(X, Y[:, ci])
            model.coef_words_ = model.coef_[0][self.n_dense : self.n_dense + len(self.words)]
            self.models[ci] = model
        return self

    def score(self, batch, base: np.ndarray | None = None):
        """Scores (NaN where a code has no model) and reasons naming the words that pushed it up."""
        scores = np.full((len(batch), len(self.codebook.codes)), np.nan)
        reasons = [{} for _ in range(len(batch))]
        if not self.models:
            return scores, reasons
        X = self.features(batch, base)
        words = X[:, self.n_dense : self.n_dense + len(self.words)]
        for ci, model in self.models.items():
            scores[:, ci] = model.predict_proba(X)[:, 1]
            contrib = words.multiply(model.coef_words_).tocsr()
            for i in range(len(batch)):
                lo, hi = contrib.indptr[i], contrib.indptr[i + 1]
                cols, vals = contrib.indices[lo:hi], contrib.data[lo:hi]
                top = [self.words[cols[j]] for j in np.argsort(-vals)[:3] if vals[j] > 0]
                cue = "、".join(f"「{w}」" for w in top) if top else "語の手がかりなし"
                reasons[i][self.codebook.codes[ci].id] = [
                    f"学習（確定 {self.positives[ci]} 件）: {cue} {scores[i, ci]:.2f}"
                ]
        return scores, reasons


@register(VERSION)
def make_learned(codebook, **_):
    """Factory of ``learned.v1`` (registered): an untrained ``LearnedSuggester`` for ``codebook``."""
    return LearnedSuggester(codebook)

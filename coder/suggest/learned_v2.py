"""``learned.v2``: one logistic regression per code, stacked on the codebook prior, trained on the
project's own confirmations (and ``--train`` files).

Features of a segment for code *c* (``Features``):

- ``ALPHA · logit(cold_c)``: the codebook prior's score for the code (``combine``: rules.v2 +
  embedding.v1). It is scaled up so that the L2 penalty costs it little: with few examples the
  model is a recalibration of the prior, and other features only gain weight as the project's
  confirmations support them;
- the cue-group values of ``rules.v2`` and its rule score per code;
- the prototype similarity per code of ``embedding.v1`` (codebook definitions, use-when lines, examples);
- the speaker's voice (person / supporter / employer / other), one-hot;
- the segment's static embedding (SIF over ja-ginza vectors);
- its content words (Sudachi normalised forms, proper nouns left out) as TF-IDF over words seen
  in at least two training segments.

Names of people and organisations never become features, so a model trained on one
organisation's interviews does not tie a code to that organisation. ``C`` and ``ALPHA`` were
chosen on the development set's projects (``benchmarks/learning_curve.py``), not on the items
they score.
"""

from __future__ import annotations

import numpy as np

from . import create, register

VERSION = "learned.v2"
C = 1.0  # inverse L2 strength of each code's model
ALPHA = 3.0  # scale of the prior's logit: its effective penalty is C·ALPHA² times weaker
MIN_EXAMPLES = 2  # a code needs this many positive and negative confirmations to get a model
VOICES = ("person", "supporter", "employer")


class Features:
    """Dense features of a batch (computed once per batch and kept in ``batch.cache``)."""

    def __init__(self, codebook, embedder):
        self.codebook, self.embedder = codebook, embedder
        self.cues = create("rules.v2", codebook)
        self.protos = create("embedding.v1", codebook, embedder=embedder)
        self.names = [
            *(f"手がかり「{g.label}」({codebook.ids[g.code]})" for g in self.cues.groups),
            *(f"ルール得点({c})" for c in codebook.ids),
            *(f"定義との類似({c})" for c in codebook.ids),
            *(f"話者「{v}」" for v in ("当事者", "支援者", "雇用者", "その他")),
        ]

    def dense(self, batch) -> np.ndarray:
        """[n, features]: cue groups, rule scores, prototype similarities, voice, embedding."""
        key = ("learned.v2-dense", id(self))
        if key not in batch.cache:
            G = self.cues.features(batch)
            voice = np.array([[p == v for v in VOICES] + [p not in VOICES] for p in batch.perspectives], dtype=float)
            batch.cache[key] = np.hstack(
                [G, self.rule_scores(G), self.protos.score(batch)[0], voice.reshape(len(batch), -1), batch.embeddings]
            )
        return batch.cache[key]

    @property
    def n_named(self) -> int:
        """How many leading dense columns have names (the embedding's columns do not)."""
        return len(self.names)

    def rule_scores(self, G: np.ndarray) -> np.ndarray:
        return 1 - np.exp(-np.maximum(self.cues.evidence(G), 0))

    def parts(self, batch) -> tuple[np.ndarray, np.ndarray]:
        """(rule scores [n, codes], prototype similarities [n, codes]) of ``batch``."""
        D = self.dense(batch)
        g, k = len(self.cues.groups), len(self.codebook.codes)
        return D[:, g : g + k], D[:, g + k : g + 2 * k]


class LearnedSuggester:
    """The ``learned.v2`` suggester: per code with at least ``MIN_EXAMPLES`` positive and negative
    confirmations, a logistic regression stacked on the codebook prior (see the module docstring)."""

    version = VERSION

    def __init__(self, codebook, features: Features):
        self.codebook, self.features = codebook, features
        self.models: dict[int, object] = {}
        self.positives = np.zeros(len(codebook.codes), dtype=int)

    def _shared(self, batch):
        from scipy.sparse import csr_matrix, hstack

        return hstack(
            [csr_matrix(self.features.dense(batch)), self.vectorizer.transform([a.content for a in batch.analyses])]
        ).tocsr()

    @staticmethod
    def _with_prior(shared, prior_column: np.ndarray):
        from scipy.sparse import csr_matrix, hstack

        return hstack([csr_matrix(ALPHA * _logit(prior_column).reshape(-1, 1)), shared]).tocsr()

    def fit(self, batch, Y: np.ndarray, prior: np.ndarray) -> "LearnedSuggester":
        """Fit a model for each code with ``MIN_EXAMPLES`` positive and negative examples.

        ``Y`` is [n, codes] of 0/1, ``prior`` the codebook prior's scores [n, codes] in (0, 1).
        """
        from sklearn.linear_model import LogisticRegression

        self.positives = Y.sum(axis=0).astype(int)
        self.models = {}
        trainable = [c for c in range(Y.shape[1]) if min(self.positives[c], len(Y) - self.positives[c]) >= MIN_EXAMPLES]
        if not trainable:
            return self
        self.vectorizer = _fit_vectorizer([a.content for a in batch.analyses])
        self.words = np.array(self.vectorizer.get_feature_names_out())
        shared = self._shared(batch)
        for c in trainable:
            self.models[c] = LogisticRegression(C=C, max_iter=3000).fit(self._with_prior(shared, prior[:, c]), Y[:, c])
        return self

    def predict(self, batch, prior: np.ndarray) -> np.ndarray:
        """[n, codes] probabilities; NaN where a code has no model."""
        P = np.full((len(batch), len(self.codebook.codes)), np.nan)
        if self.models:
            shared = self._shared(batch)
            for c, model in self.models.items():
                P[:, c] = model.predict_proba(self._with_prior(shared, prior[:, c]))[:, 1]
        return P

    def explain(self, batch, c: int, rows) -> list[list[str]]:
        """For segments ``rows`` of ``batch``, up to three named features or words that pushed code
        ``c`` up most beyond the prior (contribution = feature value × coefficient > 0.05)."""
        model = self.models.get(c)
        if model is None:
            return [[] for _ in rows]
        key = ("learned.v2-contributions", id(self), c)
        if key not in batch.cache:  # one sparse product per batch, model and code, shared by its rows
            batch.cache[key] = self._shared(batch).multiply(model.coef_[0][1:]).tocsr()
        contrib = batch.cache[key]
        n_dense, n_named = contrib.shape[1] - len(self.words), self.features.n_named
        out = []
        for i in rows:
            lo, hi = contrib.indptr[i], contrib.indptr[i + 1]
            cols, vals = contrib.indices[lo:hi], contrib.data[lo:hi]
            top = []
            for j in np.argsort(-vals)[:3]:
                if vals[j] <= 0.05:
                    break
                if cols[j] < n_named:
                    top.append(self.features.names[cols[j]])
                elif cols[j] >= n_dense:
                    top.append(f"「{self.words[cols[j] - n_dense]}」")
            out.append(top)
        return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-3, 1 - 1e-3)
    return np.log(p / (1 - p))


@register(VERSION)
def make_learned_v2(codebook, embedder=None, features: Features | None = None, **_):
    """Factory of ``learned.v2`` (registered): an untrained ``LearnedSuggester`` over ``features`` (default:
    built for ``codebook`` with ``embedder``, or the default embedding model)."""
    from .embedding import Embedder

    return LearnedSuggester(codebook, features or Features(codebook, embedder or Embedder()))


def _fit_vectorizer(docs: list[list[str]]):
    """TF-IDF over content words seen in at least two training segments — or, in a project's first
    reviews, where no word is shared yet, over every word (and, if the segments have no content
    words at all, an empty vocabulary that only the named features then carry)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    for min_df in (min(2, len(docs)), 1):
        try:
            return TfidfVectorizer(analyzer=lambda words: words, sublinear_tf=True, min_df=min_df).fit(docs)
        except ValueError:  # "After pruning, no terms remain" / "empty vocabulary"
            continue
    return TfidfVectorizer(analyzer=lambda words: words, sublinear_tf=True, vocabulary=["\0"]).fit(docs)

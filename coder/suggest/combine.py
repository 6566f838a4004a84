"""One score, threshold and set of reasons per (segment, code): the codebook prior, then the project.

**Codebook prior (cold start).** ``cold = 1 - (1 - rules) * (1 - EMBEDDING_WEIGHT * embedding)``:
a noisy-OR of ``rules.v2`` (the codebook's cue lexicon) and ``embedding.v1`` (similarity to the
codebook's definitions, use-when lines and examples), in which a cue is strong evidence and
similarity supporting evidence. A code is suggested at ``cold >= COLD_THRESHOLD`` (0.6: one strong
cue with some similarity, or two cues). Both constants sit on a plateau of core macro-F1 on the
development set (``benchmarks/data/devset.jsonl``: 0.60–0.64 for weights 0.3–0.7 at thresholds
0.5–0.6, measured with the first ``rules.v2`` lexicon); per-code thresholds chosen on it did not
carry over to other sets (the F1-best threshold of a code moved between 0.4 and 0.7 from one set to
the next), so every code starts at 0.6.

**Learning from the project.** Confirmed codings (or a ``--train`` file) train ``learned.v2``,
which is stacked on the prior. Per code with ``n`` positive confirmations the project's model
overrides the prior as confirmations accumulate: ``score = w * learned + (1 - w) * cold`` with
``w = n / (n + OVERRIDE)``. ``FOLDS``-fold cross-fitting over the confirmed segments gives each of
them a score from a model that did not see it. On those out-of-fold scores, per code:

- **guard**: the blended score is used only if the code has ``MIN_POSITIVES`` confirmed positives
  and the blend ranks the project's confirmations better than the prior does by ``MARGIN`` ROC AUC
  and clearly better than chance (AUC ≥ ``MIN_SIGNAL`` and significantly above 0.5, ``follows``);
  otherwise the code keeps the prior's scores, so an inconsistent or wrong training file cannot
  make its suggestions worse than cold start;
- **threshold**: the F1-best threshold on the project's out-of-fold scores shrunk towards 0.6 by
  ``PRIOR`` pseudo-examples, ``t = (n * best + PRIOR * 0.6) / (n + PRIOR)``, where the code has at
  least ``MIN_POSITIVES`` confirmed positives, the confirmations follow the chosen score
  (``follows``) and ``t`` itself beats 0.6 on them by at least ``MIN_GAIN`` F1; else 0.6.
  Thresholds are chosen for F1, not precision. (A threshold fitted to a few dozen confirmations is
  noisy: without these conditions it cost 0.01–0.06 macro-F1 on the development set's projects
  where 0.6 was already right; with them the curves stay flat there, and a simulated project whose
  codes sit below the default, 0.75, still gains +0.06 after 60 confirmations.)

A segment that is itself a confirmed example is scored by its fold's model: no score comes from a
model that saw its label.
"""

from __future__ import annotations

import numpy as np

from . import Batch, text_key
from .learned_v2 import Features, LearnedSuggester

EMBEDDING_WEIGHT = 0.5
COLD_THRESHOLD = 0.6
OVERRIDE = 10  # confirmed positives at which the project's model and the prior weigh the same
PRIOR = 10  # pseudo-examples with which the cold threshold resists the project's own
MIN_SIGNAL = 0.6  # ROC AUC below which confirmations are taken as not following a score
MIN_GAIN = 0.1  # F1 gain on the confirmations a threshold must promise before it moves
MIN_POSITIVES = 5  # confirmed positives a code needs before its model is used or its threshold moves
MARGIN = 0.02  # ROC AUC by which the project's model must beat the prior on the confirmations
FOLDS = 5
GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)

_FEATURES: dict[tuple, Features] = {}


def features_for(codebook, embedder) -> Features:
    """The suggesters' features for a codebook and embedding model (built once per process)."""
    key = (text_key(repr(codebook.codes)), embedder.name)  # an edited rule gives new features
    if key not in _FEATURES:
        if len(_FEATURES) >= 4:
            _FEATURES.pop(next(iter(_FEATURES)))
        _FEATURES[key] = Features(codebook, embedder)
    return _FEATURES[key]


class Combiner:
    """The combined scorer of the module docstring: the codebook prior, blended per code with ``learned.v2``
    once ``fit`` on confirmed segments. ``score`` gives scores 0–1 [n, codes], per-segment thresholds and reasons."""

    def __init__(self, codebook, embedder):
        self.codebook, self.embedder = codebook, embedder
        self.features = features_for(codebook, embedder)
        k = len(codebook.codes)
        self.thresholds = np.full(k, COLD_THRESHOLD)
        self.learned: LearnedSuggester | None = None
        self.use_learned = np.zeros(k, dtype=bool)
        self.weights = np.zeros(k)
        self.folds: dict[str, int] = {}  # confirmed text → its fold
        self.fold_models: list[LearnedSuggester] = []
        self.fold_rules: list[tuple[np.ndarray, np.ndarray]] = []  # per fold: (use_learned, thresholds)
        self.confirmed = 0

    @staticmethod
    def describe(embedder, trained: bool) -> str:
        """Suggester versions behind a score, e.g. ``rules.v2+embedding.v1+learned.v2 (ginza-static-…)``."""
        from .cues import VERSION as RULES
        from .embedding import VERSION as EMBEDDING
        from .learned_v2 import VERSION as LEARNED

        return "+".join([RULES, EMBEDDING] + ([LEARNED] if trained else [])) + f" ({embedder.name})"

    def cold(self, batch: Batch) -> np.ndarray:
        """The codebook prior's scores [n, codes] (see the module docstring)."""
        rules, similarity = self.features.parts(batch)
        return 1 - (1 - rules) * (1 - EMBEDDING_WEIGHT * similarity)

    def fit(self, batch: Batch, Y: np.ndarray, folds: int = FOLDS) -> "Combiner":
        """Learn from confirmed segments ``batch`` with codes ``Y`` [n, codes] of 0/1."""
        self.confirmed = len(batch)
        prior = self.cold(batch)
        self.learned = LearnedSuggester(self.codebook, self.features).fit(batch, Y, prior)
        n = Y.sum(axis=0)
        self.weights = n / (n + OVERRIDE)
        oof = np.full(Y.shape, np.nan)
        splits = [(train, test) for train, test in kfold(len(batch), Y, folds) if len(test)]
        for f, (train, test) in enumerate(splits):
            model = LearnedSuggester(self.codebook, self.features).fit(batch.subset(train), Y[train], prior[train])
            oof[test] = model.predict(batch.subset(test), prior[test])
            self.fold_models.append(model)
            self.folds.update((text_key(batch.texts[i]), f) for i in test)
        blended = self.weights * oof + (1 - self.weights) * prior
        self.use_learned, self.thresholds = self._decide(prior, blended, Y)
        # a confirmed segment scored again gets the guard and thresholds decided without its fold
        self.fold_rules = [self._decide(prior[train], blended[train], Y[train]) for train, _ in splits]
        return self

    @staticmethod
    def _decide(prior, blended, Y) -> tuple[np.ndarray, np.ndarray]:
        decisions = [decide(prior[:, c], blended[:, c], Y[:, c]) for c in range(Y.shape[1])]
        return np.array([d[0] for d in decisions]), np.array([d[1] for d in decisions])

    def _rules_of(self, text: str) -> tuple[LearnedSuggester | None, np.ndarray, np.ndarray]:
        """(model, use it per code, thresholds) for a text: a confirmed one's fold, else the whole."""
        f = self.folds.get(text_key(text))
        if f is None:
            return self.learned, self.use_learned, self.thresholds
        return (self.fold_models[f], *self.fold_rules[f])

    def score(self, batch: Batch):
        """(scores [n, codes], thresholds [n, codes], reasons [{code: [str]}]) for ``batch``.

        Thresholds are per segment: a confirmed segment scored again is judged by its fold's model
        with the guard and thresholds decided without its fold (nothing is tuned on it).
        """
        prior = self.cold(batch)
        scores, thresholds = prior.copy(), np.tile(self.thresholds, (len(batch), 1))
        use = np.zeros(prior.shape, dtype=bool)
        groups: dict[int, tuple[LearnedSuggester, list[int]]] = {}
        for i, t in enumerate(batch.texts):
            model, use[i], thresholds[i] = self._rules_of(t)
            if model is not None and use[i].any():
                groups.setdefault(id(model), (model, []))[1].append(i)
        for model, rows in groups.values():
            learned = model.predict(batch.subset(rows), prior[rows])
            ok = use[rows] & ~np.isnan(learned)
            scores[rows] = np.where(
                ok, self.weights * np.nan_to_num(learned) + (1 - self.weights) * prior[rows], prior[rows]
            )
            use[rows] = ok
        return scores, thresholds, self.reasons(batch, scores, use)

    def reasons(self, batch: Batch, scores: np.ndarray, use: np.ndarray) -> list[dict[str, list[str]]]:
        """Per segment and code: the cues found, what the project's model added, the closest prototype.

        The model's line is given where the code's score used it (``use`` [n, codes]) and is at least 0.2.
        """
        hits = self.features.cues.batch_hits(batch)
        _, similar = self.features.protos.score(batch)
        out = []
        for i, text in enumerate(batch.texts):
            rules = self.features.cues.explain(hits[i])
            row = {}
            for c, code in enumerate(self.codebook.ids):
                lines = list(rules.get(code, []))
                if use[i, c] and scores[i, c] >= 0.2:
                    model = self._rules_of(text)[0]
                    top = "、".join(model.explain(batch, c, [i])[0]) or "ルールと類似度の再評価"
                    lines.append(
                        f"学習（例 {self.confirmed} 件・うち該当 {model.positives[c]} 件）: {top} {scores[i, c]:.2f}"
                    )
                row[code] = lines + similar[i].get(code, [])
            out.append(row)
        return out


def decide(cold: np.ndarray, blended: np.ndarray, y: np.ndarray) -> tuple[bool, float]:
    """Guard and threshold of one code, from its confirmations ``y`` and their cold and
    out-of-fold blended scores (see the module docstring). Returns (use the model, threshold)."""
    from sklearn.metrics import roc_auc_score

    n = int(y.sum())
    if n == 0 or n == len(y):
        return False, COLD_THRESHOLD
    auc_cold = roc_auc_score(y, cold)
    auc_blended = roc_auc_score(y, blended) if not np.isnan(blended).any() else 0.0
    use = n >= MIN_POSITIVES and auc_blended >= auc_cold + MARGIN and follows(auc_blended, n, len(y) - n)
    scores = blended if use else cold
    if not follows(auc_blended if use else auc_cold, n, len(y) - n):
        return use, COLD_THRESHOLD  # the confirmations do not follow any score: keep the default
    if n < MIN_POSITIVES:
        return use, COLD_THRESHOLD
    shrunk = (n * best_threshold(scores, y) + PRIOR * COLD_THRESHOLD) / (n + PRIOR)
    if _f1(scores >= shrunk, y == 1) - _f1(scores >= COLD_THRESHOLD, y == 1) < MIN_GAIN:
        return use, COLD_THRESHOLD  # the threshold actually used must promise the gain, not just the best one
    return use, shrunk


def follows(auc: float, positives: int, negatives: int) -> bool:
    """Whether labels follow a score: ROC AUC ≥ ``MIN_SIGNAL`` and above chance at one-sided 99%
    (z = 2.33), with the standard error of Hanley & McNeil (1982, *Radiology* 143:29–36)."""
    if auc < MIN_SIGNAL:
        return False
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives
    )
    return auc - 2.33 * np.sqrt(max(var, 0.0)) > 0.5


def best_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    """The F1-best threshold on ``GRID`` (the middle of ties); ``COLD_THRESHOLD`` without positives."""
    if not y.sum():
        return COLD_THRESHOLD
    f1 = np.array([_f1(scores >= t, y == 1) for t in GRID])
    return float(np.mean(GRID[np.isclose(f1, f1.max())]))


def kfold(n: int, Y: np.ndarray, k: int):
    """Deterministic k-fold splits (iterative-stratification-like: rarest code spread first)."""
    k = max(2, min(k, n))
    order = sorted(range(n), key=lambda i: (tuple(-Y[i]), i))
    fold = np.empty(n, dtype=int)
    fold[order] = np.arange(n) % k
    for f in range(k):
        yield np.flatnonzero(fold != f), np.flatnonzero(fold == f)


def _f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = float(np.sum(pred & gold))
    return 2 * tp / (np.sum(pred) + np.sum(gold)) if tp else 0.0

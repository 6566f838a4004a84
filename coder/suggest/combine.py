"""Merge the suggesters' scores into one calibrated score per (segment, code), with reasons.

Cold start (no labelled data): ``cold = 1 - (1 - rules) * (1 - EMBEDDING_WEIGHT * embedding)``,
a noisy-OR in which a rule hit is strong evidence and embedding similarity supporting
evidence; a code is suggested when ``cold >= COLD_THRESHOLD`` (0.6: one strong phrase with
some embedding support, two phrases, or a strong phrase and a weak one). The two
constants sit in a plateau of core macro-F1 on the development statements (0.77–0.79
for weights 0–0.7 with thresholds 0.5–0.7), not on a peak.

With labelled data (confirmed codings or ``--train``): ``learned.v1`` is fitted on them
(using the cold components as features), its probabilities are calibrated per code by
Platt scaling on its out-of-fold scores, and per code
``score = w * calibrated + (1 - w) * cold`` with ``w = n / (n + PRIOR)`` for ``n`` positive
examples. Each code's threshold is tuned on the same out-of-fold scores (k-fold: no
out-of-fold score comes from a model that saw its segment) and shrunk, when a code has few
examples, towards ``w * LEARNED_THRESHOLD + (1 - w) * COLD_THRESHOLD``: each part's own
decision point (0.5 for a calibrated probability), weighted like the parts.
"""

from __future__ import annotations

import numpy as np

from . import Batch, create

EMBEDDING_WEIGHT = 0.5
COLD_THRESHOLD = 0.6
LEARNED_THRESHOLD = 0.5
PRIOR = 5
FOLDS = 5


class Combiner:
    def __init__(self, codebook, embedder, extra_examples: dict[str, list[str]] | None = None, cold=None):
        self.codebook, self.embedder = codebook, embedder
        self.rules, self.embedding = cold or (
            create("rules.v1", codebook),
            create("embedding.v1", codebook, embedder=embedder, extra_examples=extra_examples))
        self.learned = None
        self.calibrators = {}
        self.thresholds = np.full(len(codebook.codes), COLD_THRESHOLD)

    @staticmethod
    def describe(embedder, trained: bool) -> str:
        """Suggester versions behind a score, e.g. ``rules.v1+embedding.v1+learned.v1 (ginza-static-…)``."""
        from .embedding import VERSION as EMBEDDING
        from .learned import VERSION as LEARNED
        from .rules import VERSION as RULES

        return "+".join([RULES, EMBEDDING] + ([LEARNED] if trained else [])) + f" ({embedder.name})"

    def unfitted(self) -> "Combiner":
        """A new combiner sharing this one's rule and embedding suggesters (they need no fitting)."""
        return Combiner(self.codebook, self.embedder, cold=(self.rules, self.embedding))

    def components(self, batch: Batch):
        """Rule and embedding scores and reasons, computed once per batch (subsets reuse them)."""
        key = (self.rules, self.embedding)  # the objects, not id(): the dict keeps them alive
        if key not in batch.scores:
            batch.scores[key] = (*self.rules.score(batch), *self.embedding.score(batch))
        r, r_why, e, e_why = batch.scores[key]
        return r, e, r_why, e_why

    def fit(self, batch: Batch, Y: np.ndarray, folds: int = FOLDS) -> "Combiner":
        """Fit the learner on labelled ``batch``; calibrate it (Platt) and tune thresholds on
        its out-of-fold scores."""
        r, e, _, _ = self.components(batch)
        raw = np.full(Y.shape, np.nan)
        for train, test in kfold(len(batch), Y, folds):
            learned = create("learned.v1", self.codebook).fit(batch.subset(train), Y[train], _base(r, e)[train])
            raw[test] = learned.score(batch.subset(test), _base(r, e)[test])[0]
        self.calibrators = _platt(raw, Y)
        w = _weights(Y.sum(axis=0))
        oof = _mix(_cold(r, e), _calibrated(raw, self.calibrators), w)
        # each part's own decision point, weighted like the parts: 0.5 for a calibrated probability
        self.thresholds = tune_thresholds(oof, Y, w * LEARNED_THRESHOLD + (1 - w) * COLD_THRESHOLD)
        self.learned = create("learned.v1", self.codebook).fit(batch, Y, _base(r, e))
        return self

    def score(self, batch: Batch):
        """(scores [n, k], reasons [{code: [str]}]) for ``batch``."""
        r, e, r_why, e_why = self.components(batch)
        scores, l_why = _blend(self.learned, batch, r, e, self.calibrators)
        reasons = []
        for i in range(len(batch)):
            row = {}
            for code in self.codebook.ids:
                row[code] = [*r_why[i].get(code, []), *l_why[i].get(code, []), *e_why[i].get(code, [])]
            reasons.append(row)
        return scores, reasons


def _base(r, e):
    return np.hstack([r, e])


def _cold(r, e):
    return 1 - (1 - r) * (1 - EMBEDDING_WEIGHT * e)


def _weights(positives):
    return positives / (positives + PRIOR)


def _mix(cold, p, w):
    return np.where(np.isnan(p), cold, w * np.nan_to_num(p) + (1 - w) * cold)


def _platt(raw, Y):
    """Per code, a logistic map from the learner's out-of-fold probability to a calibrated one."""
    from sklearn.linear_model import LogisticRegression

    out = {}
    for ci in range(Y.shape[1]):
        ok = ~np.isnan(raw[:, ci])
        if ok.sum() and 0 < Y[ok, ci].sum() < ok.sum():
            out[ci] = LogisticRegression().fit(_logit(raw[ok, ci]), Y[ok, ci])
    return out


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p)).reshape(-1, 1)


def _calibrated(raw, calibrators):
    out = np.full(raw.shape, np.nan)
    for ci, model in calibrators.items():
        ok = ~np.isnan(raw[:, ci])
        if ok.any():
            out[ok, ci] = model.predict_proba(_logit(raw[ok, ci]))[:, 1]
    return out


def _blend(learned, batch, r, e, calibrators=None):
    cold = _cold(r, e)
    if learned is None:
        return cold, [{} for _ in range(len(batch))]
    p, why = learned.score(batch, _base(r, e))
    return _mix(cold, _calibrated(p, calibrators or {}), _weights(learned.positives)), why


def kfold(n: int, Y: np.ndarray, k: int):
    """Deterministic k-fold splits (iterative-stratification-like: rarest code spread first)."""
    k = max(2, min(k, n))
    order = sorted(range(n), key=lambda i: (tuple(-Y[i]), i))
    fold = np.empty(n, dtype=int)
    fold[order] = np.arange(n) % k
    for f in range(k):
        yield np.flatnonzero(fold != f), np.flatnonzero(fold == f)


def tune_thresholds(scores: np.ndarray, Y: np.ndarray, targets: np.ndarray | None = None,
                    grid=np.arange(0.05, 0.96, 0.05)) -> np.ndarray:
    """Per code, the F1-best threshold on held-out scores, shrunk towards ``targets`` (default
    COLD_THRESHOLD) in proportion to how few positive examples the code has."""
    targets = np.full(Y.shape[1], COLD_THRESHOLD) if targets is None else targets
    out = targets.astype(float).copy()
    for ci in range(Y.shape[1]):
        n = int(Y[:, ci].sum())
        if n == 0:
            continue
        f1 = [_f1(scores[:, ci] >= t, Y[:, ci] == 1) for t in grid]
        best = float(np.mean(grid[np.isclose(f1, max(f1))]))
        out[ci] = (n * best + PRIOR * targets[ci]) / (n + PRIOR)
    return out


def _f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = float(np.sum(pred & gold))
    return 2 * tp / (np.sum(pred) + np.sum(gold)) if tp else 0.0


def uncertainty(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How unsure the suggestions for each segment are: 1 at a threshold, 0 far from all."""
    return (1 - np.abs(scores - thresholds) / np.maximum(thresholds, 1 - thresholds)).max(axis=1)

"""Suggest codes for JSONL items (no project needed) or for a project's segments."""

from __future__ import annotations

import json

import numpy as np

from . import Batch
from .combine import Combiner, uncertainty
from .embedding import Embedder
from .labelled import label_matrix, read_jsonl  # noqa: F401  (the CLI reads training files through here)

REASON_MIN_SCORE = 0.2  # reasons are listed for suggested codes and any code scoring at least this


def score_texts(texts: list[str], codebook, embedder, train_texts=None, Y=None, perspectives=None,
                train_perspectives=None):
    """Scores [n, codes], reasons [{code: [str]}] and thresholds [n, codes] for ``texts``.

    ``train_texts`` with labels ``Y`` [n, codes] (confirmed codings or a ``--train`` file) train
    the combiner (see ``combine``). A text that is also training data is scored by a model fitted
    without it (cross-fitting): no score comes from a model that saw its label. ``perspectives``
    (person / supporter / employer / None per text) are the speakers' voices.
    """
    combiner = Combiner(codebook, embedder)
    if train_texts:
        combiner.fit(Batch(train_texts, embedder, train_perspectives), Y)
    scores, thresholds, reasons = combiner.score(Batch(texts, embedder, perspectives))
    return scores, reasons, thresholds


def suggest_items(items: list[dict], codebook, train: list[dict] | None = None,
                  embedding_model: str | None = None, source: str = "train") -> list[dict]:
    """The ``coder suggest --in`` records: id, labels, scores for every code, reasons.

    Items (and training items) may carry ``perspective`` (person / supporter / employer), which
    the learner uses as the speaker's voice.
    """
    embedder = Embedder(embedding_model)
    Y = label_matrix(train, codebook, source) if train else None
    scores, reasons, thresholds = score_texts(
        [it["text"] for it in items], codebook, embedder, [it["text"] for it in train] if train else None, Y,
        [it.get("perspective") for it in items], [it.get("perspective") for it in train] if train else None)
    out = []
    for item, row, why, th in zip(items, scores, reasons, thresholds):
        labels = [c for c, s, t in zip(codebook.ids, row, th) if s >= t]
        out.append({"id": item["id"], "labels": labels,
                    "scores": {c: round(float(s), 4) for c, s in zip(codebook.ids, row)},
                    "reasons": {c: why[c] for c, s in zip(codebook.ids, row)
                                if (c in labels or s >= REASON_MIN_SCORE) and why.get(c)}})
    return out


def review_order(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Indices of segments, least certain suggestions first."""
    return np.argsort(-uncertainty(scores, thresholds), kind="stable")


def suggest_project(db, codebook, transcript=None, embedding_model: str | None = None) -> dict:
    """Score every interviewee segment of the project (or one transcript) and store the suggestions.

    Segments analysts have decided on (confirmed codings or a finished review) train the
    combiner — in blind mode only the consensus does (``coder.access.training_layers``); codes
    that are not in the codebook (imported user codes) are left out. Returns a summary: segments
    scored, suggested segments per code, and the least certain segments.
    """
    from .. import db as store
    from ..access import training_layers

    segments = store.segments_to_code(db, transcript)
    if not segments:  # a new project, or only interviewer turns: nothing to score (and no model to load)
        return {"segments": 0, "trained_on": 0, "suggested": {}, "least_certain": []}
    examples = [{**e, "codes": [c for c in e["codes"] if c in codebook.ids]}
                for e in store.confirmed_examples(db, training_layers(db))]
    embedder = Embedder(embedding_model, db=db)
    Y = label_matrix(examples, codebook, "confirmed codings") if examples else None
    scores, reasons, thresholds = score_texts(
        [s["text"] for s in segments], codebook, embedder, [e["text"] for e in examples] or None, Y,
        [s["perspective"] for s in segments], [e["perspective"] for e in examples])
    versions = Combiner.describe(embedder, trained=bool(examples))
    now = store.now()
    rows = [{"segment_id": seg["id"], "code": c, "score": float(sc), "threshold": float(t), "selected": int(sc >= t),
             "reasons": json.dumps(why.get(c, []), ensure_ascii=False), "suggesters": versions,
             "codebook_version": codebook.version_tag, "created_at": now}
            for seg, row, why, th in zip(segments, scores, reasons, thresholds)
            for c, sc, t in zip(codebook.ids, row, th)]
    store.store_suggestions(db, rows)
    order = review_order(scores, thresholds)
    return {"segments": len(segments), "trained_on": len(examples),
            "suggested": {c: int((scores[:, k] >= thresholds[:, k]).sum()) for k, c in enumerate(codebook.ids)},
            "least_certain": [segments[i]["id"] for i in order[:10]]}

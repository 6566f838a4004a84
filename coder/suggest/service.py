"""Suggest codes for JSONL items (no project needed) or for a project's segments."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from ..types import Codebook
from . import Batch
from .combine import Combiner
from .embedding import Embedder
from .labelled import label_matrix, read_jsonl  # noqa: F401  (the CLI reads training files through here)

REASON_MIN_SCORE = 0.2  # reasons are listed for suggested codes and any code scoring at least this
EMPTY = {"segments": 0, "trained_on": 0, "suggested": {}, "least_certain": []}  # the summary when nothing is scored


def score_texts(
    texts: list[str], codebook, embedder, train_texts=None, Y=None, perspectives=None, train_perspectives=None
):
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


def suggest_items(
    items: list[dict],
    codebook,
    train: list[dict] | None = None,
    embedding_model: str | None = None,
    source: str = "train",
) -> list[dict]:
    """The ``coder suggest --in`` records: id, labels, scores for every code, reasons.

    Items (and training items) may carry ``perspective`` (person / supporter / employer), which
    the learner uses as the speaker's voice.
    """
    embedder = Embedder(embedding_model)
    Y = label_matrix(train, codebook, source) if train else None
    scores, reasons, thresholds = score_texts(
        [it["text"] for it in items],
        codebook,
        embedder,
        [it["text"] for it in train] if train else None,
        Y,
        [it.get("perspective") for it in items],
        [it.get("perspective") for it in train] if train else None,
    )
    out = []
    for item, row, why, th in zip(items, scores, reasons, thresholds):
        labels = [c for c, s, t in zip(codebook.ids, row, th) if s >= t]
        out.append(
            {
                "id": item["id"],
                "labels": labels,
                "scores": {c: round(float(s), 4) for c, s in zip(codebook.ids, row)},
                "reasons": {
                    c: why[c]
                    for c, s in zip(codebook.ids, row)
                    if (c in labels or s >= REASON_MIN_SCORE) and why.get(c)
                },
            }
        )
    return out


def review_order(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Indices of segments (rows of ``scores`` and ``thresholds`` [n, codes]), least certain suggestions
    first (``coder.coding.uncertainty``, the measure the coding view's review queue sorts by); ties
    keep their order."""
    from ..coding import uncertainty

    rows = zip(np.asarray(scores).tolist(), np.asarray(thresholds).tolist())  # Python floats: the same values, faster
    return np.argsort([-uncertainty(row, th) for row, th in rows], kind="stable")


@dataclass
class ProjectModel:
    """The suggesters as fitted on a project's decided segments (``fit_project``), ready to ``score``
    any of its transcripts: the combiner, its embedder (which caches embeddings in the database it was
    made with), the codebook, how many segments trained it and the suggester versions it stores."""

    combiner: Combiner
    embedder: Embedder
    codebook: Codebook
    trained_on: int
    versions: str


def fit_project(db, codebook, embedding_model: str | None = None) -> ProjectModel:
    """Fit the suggesters on the segments analysts have decided on (confirmed codings or a finished
    review) — in blind mode only the consensus (``coder.access.training_layers``); codes that are not
    in ``codebook`` (imported user codes) are left out. Without any, the model is the codebook prior.
    Loads the embedding model (``embedding_model``, default ja-ginza's vectors)."""
    from .. import db as store
    from ..access import training_layers

    examples = [
        {**e, "codes": [c for c in e["codes"] if c in codebook.ids]}
        for e in store.confirmed_examples(db, training_layers(db))
    ]
    embedder = Embedder(embedding_model, db=db)
    combiner = Combiner(codebook, embedder)
    if examples:
        combiner.fit(
            Batch([e["text"] for e in examples], embedder, [e["perspective"] for e in examples]),
            label_matrix(examples, codebook, "confirmed codings"),
        )
    return ProjectModel(
        combiner, embedder, codebook, len(examples), Combiner.describe(embedder, trained=bool(examples))
    )


def score(db, model: ProjectModel, transcript_ids: int | str | list | None = None) -> dict:
    """Score the interviewee segments of the transcripts ``transcript_ids`` (an id or name, a list of
    them, or None for every transcript) with a fitted ``model`` and store the suggestions (replacing
    theirs). ``db`` is the connection ``model`` was fitted on. A segment that trained the model is
    scored by a model fitted without it (cross-fitting). Returns a summary: segments scored,
    trained_on (``EMPTY`` when there is nothing to score), suggested segments per code, and the ten
    least certain segment ids.
    ``coder.errors.NotFound`` for an unknown transcript."""
    from .. import db as store

    book = model.codebook
    wanted = transcript_ids if isinstance(transcript_ids, list) else [transcript_ids]
    segments = [s for t in wanted for s in store.segments_to_code(db, t)]
    if not segments:  # a new project, or only interviewer turns: nothing to score
        return dict(EMPTY)
    scores, thresholds, reasons = model.combiner.score(
        Batch([s["text"] for s in segments], model.embedder, [s["perspective"] for s in segments])
    )
    now = store.now()
    rows = [
        {
            "segment_id": seg["id"],
            "code": c,
            "score": float(sc),
            "threshold": float(t),
            "selected": int(sc >= t),
            "reasons": json.dumps(why.get(c, []), ensure_ascii=False),
            "suggesters": model.versions,
            "codebook_version": book.version_tag,
            "created_at": now,
        }
        for seg, row, why, th in zip(segments, scores, reasons, thresholds)
        for c, sc, t in zip(book.ids, row, th)
    ]
    store.store_suggestions(db, rows)
    order = review_order(scores, thresholds)
    return {
        "segments": len(segments),
        "trained_on": model.trained_on,
        "suggested": {c: int((scores[:, k] >= thresholds[:, k]).sum()) for k, c in enumerate(book.ids)},
        "least_certain": [segments[i]["id"] for i in order[:10]],
    }


def suggest_project(db, codebook, transcript=None, embedding_model: str | None = None) -> dict:
    """Fit the suggesters (``fit_project``) and score every interviewee segment of the project (or of
    one ``transcript``, id or name) with them (``score``), storing the suggestions; returns
    ``score``'s summary. Nothing is loaded when there is nothing to score."""
    from .. import db as store

    if not store.segments_to_code(db, transcript):  # a new project, or only interviewer turns
        return dict(EMPTY)
    return score(db, fit_project(db, codebook, embedding_model), transcript)

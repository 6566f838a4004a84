"""Suggest codes for JSONL items (no project needed) or for a project's segments."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import CoderError
from . import Batch, text_key
from .combine import FOLDS, Combiner, kfold, uncertainty
from .embedding import Embedder

REASON_MIN_SCORE = 0.2  # reasons are listed for suggested codes and any code scoring at least this


def read_jsonl(path: str | Path, need_codes: bool = False) -> list[dict]:
    """Items ``{"id", "text", "perspective"?, "codes"?}``; CoderError names the file and line."""
    items = []
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CoderError(f"{path}: cannot read: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise CoderError(f"{path}, line {n}: not JSON: {exc}") from exc
        if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("text"), str):
            raise CoderError(f"{path}, line {n}: expected an object with \"id\" and \"text\"")
        if need_codes and not isinstance(item.get("codes"), list):
            raise CoderError(f"{path}, line {n}: a labelled line needs \"codes\": [code ids]")
        items.append(item)
    return items


def label_matrix(items: list[dict], codebook, source: str) -> np.ndarray:
    ids = codebook.ids
    Y = np.zeros((len(items), len(ids)), dtype=int)
    for i, item in enumerate(items):
        for code in item["codes"]:
            if code not in ids:
                raise CoderError(f"{source}: item {item['id']!r} has code {code!r}, not in codebook "
                                 f"{codebook.version_tag} ({', '.join(ids)})")
            Y[i, ids.index(code)] = 1
    return Y


def score_texts(texts: list[str], codebook, embedder, train_texts=None, Y=None, extra_examples=None):
    """Scores, reasons and thresholds for ``texts``.

    A text that is also in the training data is scored by a model fitted without the
    fold that holds it (cross-fitting), so no score comes from a model that saw its label.
    """
    batch = Batch(texts, embedder)
    k = len(codebook.codes)
    scores, thresholds, reasons = np.zeros((len(texts), k)), np.zeros((len(texts), k)), [{} for _ in texts]
    base = Combiner(codebook, embedder, extra_examples)
    if not train_texts:
        parts = [(base, list(range(len(texts))))]
    else:
        train = Batch(train_texts, embedder)
        where = {}
        for i, t in enumerate(train_texts):
            where.setdefault(text_key(t), i)
        fresh = [i for i, t in enumerate(texts) if text_key(t) not in where]
        parts = [(base.unfitted().fit(train, Y), fresh)] if fresh else []
        for tr, te in kfold(len(train_texts), Y, FOLDS):
            held_out = set(te.tolist())
            mine = [i for i, t in enumerate(texts) if where.get(text_key(t)) in held_out]
            if mine:
                parts.append((base.unfitted().fit(train.subset(tr), Y[tr]), mine))
    for combiner, index in parts:
        s, r = combiner.score(batch.subset(index))
        scores[index], thresholds[index] = s, combiner.thresholds
        for j, i in enumerate(index):
            reasons[i] = r[j]
    return scores, reasons, thresholds


def suggest_items(items: list[dict], codebook, train: list[dict] | None = None,
                  embedding_model: str | None = None, source: str = "train") -> list[dict]:
    """The ``coder suggest --in`` records: id, labels, scores for every code, reasons."""
    embedder = Embedder(embedding_model)
    Y = label_matrix(train, codebook, source) if train else None
    scores, reasons, thresholds = score_texts([it["text"] for it in items], codebook, embedder,
                                              [it["text"] for it in train] if train else None, Y)
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

    Confirmed codings train ``learned.v1`` and join the embedding prototypes. Returns a
    summary: segments scored, suggested segments per code, and the least certain segments.
    """
    from .. import db as store

    segments = store.segments_to_code(db, transcript)
    examples = store.confirmed_examples(db)
    embedder = Embedder(embedding_model, db=db)
    extra = {c: [e["text"] for e in examples if c in e["codes"]] for c in codebook.ids}
    Y = label_matrix(examples, codebook, "confirmed codings") if examples else None
    scores, reasons, thresholds = score_texts([s["text"] for s in segments], codebook, embedder,
                                              [e["text"] for e in examples] or None, Y, extra)
    versions = Combiner.describe(embedder, trained=bool(examples))
    now = store.now()
    rows = [{"segment_id": seg["id"], "code": c, "score": float(sc), "threshold": float(t), "selected": int(sc >= t),
             "reasons": json.dumps(why.get(c, []), ensure_ascii=False), "suggesters": versions,
             "codebook_version": codebook.version_tag, "created_at": now}
            for seg, row, why, th in zip(segments, scores, reasons, thresholds)
            for c, sc, t in zip(codebook.ids, row, th)]
    store.store_suggestions(db, rows)
    order = review_order(scores, thresholds) if len(segments) else []
    return {"segments": len(segments), "trained_on": len(examples),
            "suggested": {c: int((scores[:, k] >= thresholds[:, k]).sum()) for k, c in enumerate(codebook.ids)}
            if len(segments) else {},
            "least_certain": [segments[i]["id"] for i in order[:10]]}

"""``embedding.v1``: similarity between a segment and each code's definition, guidance and examples.

The default model is a sentence-transformers ``StaticEmbedding`` built locally from the
word vectors ja-ginza ships (keyed by Sudachi normalised forms, SIF-weighted), saved once under the
cache directory (``$CODER_CACHE`` or ``~/.cache/coder``) — nothing is downloaded. Its
input is the segment's content words (Sudachi split mode C), space-joined. Any local
sentence-transformers model directory can be used instead (``--embedding-model PATH``);
it gets the raw text.

A segment's similarity to a code is its highest cosine similarity to one of the code's
prototypes, taken relative to its mean over all codes, and turned into a probability
without labels: a logistic curve fitted on the codebook itself (each prototype against
its own code = positive, against the other codes = negative).
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import register, text_key

VERSION = "embedding.v1"
MARKER = "coder_model.json"
ROWS = "coder_word_rows.json"


def cache_dir() -> Path:
    """Where coder caches models: ``$CODER_CACHE`` if set, else ``~/.cache/coder``."""
    return Path(os.environ.get("CODER_CACHE") or Path.home() / ".cache" / "coder")


def default_model_dir() -> Path:
    """The default embedding model's folder, built from the installed ja-ginza's vectors:
    ``<cache_dir>/models/ginza-static-sif-<ja-ginza version>``."""
    from importlib.metadata import version

    return cache_dir() / "models" / f"ginza-static-sif-{version('ja-ginza')}"


def sif_weighted(data: np.ndarray, a: float = 1e-3) -> np.ndarray:
    """Rows scaled by SIF weights a / (a + p(w)) and without their common direction.

    ja-ginza's rows are ordered by word frequency, so p(w) is taken from Zipf's law on the
    row rank. Mean pooling of these rows is then a SIF sentence embedding (Arora et al. 2017):
    particles and other frequent words stop dominating the average.
    """
    ranks = np.arange(1, len(data) + 1)
    p = 1 / (ranks * np.sum(1 / ranks))
    out = data * (a / (a + p))[:, None]
    pc = np.linalg.svd(out, full_matrices=False)[2][0]
    return (out - np.outer(out @ pc, pc)).astype(data.dtype)


def build_default_model(path: Path) -> Path:
    """Write a StaticEmbedding model from ja-ginza's vectors to ``path`` (once; seconds)."""
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import StaticEmbedding
    from tokenizers import Tokenizer, models, pre_tokenizers

    from ..segment import load_nlp

    nlp = load_nlp()
    vectors, strings = nlp.vocab.vectors, nlp.vocab.strings
    # ja-ginza's 480k words share 20k rows (pruned vectors), and a WordLevel vocabulary
    # keeps one word per id, so the model's tokens are row ids ("#123") and the
    # word → row table is saved beside it for pre-tokenisation.
    rows = {strings[key]: int(row) for key, row in vectors.key2row.items() if key in strings}
    unk = vectors.shape[0]
    vocab = {f"#{i}": i for i in range(unk)} | {"[UNK]": unk}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    weights = np.vstack([sif_weighted(vectors.data), np.zeros((1, vectors.shape[1]), dtype=vectors.data.dtype)])
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)], device="cpu")
    tmp = path.with_name(path.name + ".tmp")
    model.save(str(tmp))
    (tmp / MARKER).write_text(json.dumps({"input": "sudachi-c-content-norms → #row", "source": "ja-ginza vectors"}))
    (tmp / ROWS).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    tmp.rename(path)
    return path


# A model's Rust tokenizer (Hugging Face tokenizers) fails with "Already borrowed" when two threads
# encode at once; the web app encodes from requests and from its background jobs, so they take turns.
ENCODE = threading.RLock()


class Embedder:
    """Encodes batches with a local sentence-transformers model, caching vectors in the project DB."""

    def __init__(self, model_path: str | Path | None = None, db=None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = Path(model_path) if model_path else default_model_dir()
        with ENCODE:  # two threads must not build the default model into the same folder at once
            if model_path is None and not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                build_default_model(path)
        self.path = path
        self.pretokenized = (path / MARKER).exists()
        self.name = path.name if model_path is None else str(path.resolve())
        self.db = db

    @property
    def model(self):
        return _load(str(self.path))

    def inputs(self, batch) -> list[str]:
        if not self.pretokenized:
            return batch.texts
        rows = _word_rows(str(self.path))
        return [" ".join(f"#{rows[w]}" for w in words if w in rows) for words in batch.content]

    def encode(self, batch) -> np.ndarray:
        texts = self.inputs(batch)
        keys = [text_key(t) for t in texts]
        cached = self.db_lookup(keys)
        todo = sorted({i for i, k in enumerate(keys) if k not in cached}, key=lambda i: keys[i])
        if todo:
            with ENCODE:
                vectors = self.model.encode(
                    [texts[i] for i in todo],
                    batch_size=256,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            fresh = {keys[i]: v.astype(np.float32) for i, v in zip(todo, vectors)}
            self.db_store(fresh)
            cached.update(fresh)
        dim = self.model.get_embedding_dimension()
        return np.vstack([cached[k] for k in keys]) if keys else np.zeros((0, dim), dtype=np.float32)

    def db_lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        if self.db is None or not keys:
            return {}
        from ..db import get_embeddings

        return get_embeddings(self.db, self.name, keys)

    def db_store(self, vectors: dict[str, np.ndarray]) -> None:
        if self.db is not None and vectors:
            from ..db import put_embeddings

            put_embeddings(self.db, self.name, vectors)


@lru_cache(maxsize=2)
def _word_rows(path: str) -> dict[str, int]:
    return json.loads((Path(path) / ROWS).read_text(encoding="utf-8"))


@lru_cache(maxsize=2)
def _load(path: str):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


def prototypes(codebook, extra: dict[str, list[str]] | None = None) -> list[tuple[int, str, str]]:
    """(code index, kind, text) for every definition, use-when line, example and confirmed segment."""
    out = []
    for ci, code in enumerate(codebook.codes):
        out.append((ci, "定義", code.definition))
        out.extend((ci, "用例", t) for t in code.use_when)
        out.extend((ci, "例文", t) for t in code.examples)
        out.extend((ci, "確定済み", t) for t in (extra or {}).get(code.id, []))
    return out


class EmbeddingSuggester:
    """The ``embedding.v1`` suggester: a segment's similarity to each code's prototypes, calibrated to 0–1
    on the codebook itself (see the module docstring). ``score`` gives [n, codes] and reasons."""

    version = VERSION

    def __init__(self, codebook, embedder: Embedder, extra_examples: dict[str, list[str]] | None = None):
        from sklearn.linear_model import LogisticRegression

        from . import Batch

        self.codebook, self.embedder = codebook, embedder
        self.protos = prototypes(codebook, extra_examples)
        self.owner = np.array([ci for ci, _, _ in self.protos])
        self.vectors = Batch([t for _, _, t in self.protos], embedder).embeddings
        # label-free calibration on the codebook itself: each prototype's relative similarity
        # to its own code (positive) and to the other codes (negative), itself left out
        sims = self.vectors @ self.vectors.T
        np.fill_diagonal(sims, -1.0)
        rel = self._relative(self._best(sims)[0])
        own = self.owner[:, None] == np.arange(len(codebook.codes))[None, :]
        self.calibration = LogisticRegression(class_weight="balanced").fit(rel.reshape(-1, 1), own.ravel())

    @staticmethod
    def _relative(best: np.ndarray) -> np.ndarray:
        """Similarity to a code minus the segment's mean similarity to all codes."""
        return best - best.mean(axis=1, keepdims=True)

    def _best(self, sims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = len(self.codebook.codes)
        best = np.full((len(sims), k), -1.0)
        which = np.zeros((len(sims), k), dtype=int)
        for ci in range(k):
            cols = np.flatnonzero(self.owner == ci)
            if len(cols):
                arg = sims[:, cols].argmax(axis=1)
                best[:, ci], which[:, ci] = sims[np.arange(len(sims)), cols[arg]], cols[arg]
        return best, which

    def similarities(self, batch) -> tuple[np.ndarray, np.ndarray]:
        """Per code: the highest similarity to one of its prototypes, and which prototype.

        A prototype identical to the segment (a confirmed segment scored again) is skipped.
        """
        sims = batch.embeddings @ self.vectors.T
        texts = {t: j for j, (_, _, t) in enumerate(self.protos)}
        for i, t in enumerate(batch.texts):
            if t in texts:
                sims[i, texts[t]] = -1.0
        return self._best(sims)

    def score(self, batch):
        key = ("embedding.v1", id(self))
        if key not in batch.cache:
            batch.cache[key] = self._score(batch)
        return batch.cache[key]

    def _score(self, batch):
        if not len(batch):
            return np.zeros((0, len(self.codebook.codes))), []
        best, which = self.similarities(batch)
        rel = self._relative(best)
        scores = self.calibration.predict_proba(rel.reshape(-1, 1))[:, 1].reshape(best.shape)
        reasons = []
        for i in range(len(batch)):
            row = {}
            for ci, code in enumerate(self.codebook.codes):
                _, kind, text = self.protos[which[i, ci]]
                row[code.id] = [f"類似（{kind}）: 「{text[:30]}{'…' if len(text) > 30 else ''}」 {best[i, ci]:.2f}"]
            reasons.append(row)
        return scores, reasons


@register(VERSION)
def make_embedding(codebook, embedder: Embedder | None = None, extra_examples=None, **_):
    """Factory of ``embedding.v1`` (registered): an ``EmbeddingSuggester`` with ``embedder`` (default: the
    default model) and extra prototypes ``extra_examples`` ({code id: [texts]})."""
    return EmbeddingSuggester(codebook, embedder or Embedder(), extra_examples)
